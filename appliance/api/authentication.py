"""API key authentication for enterprise systems.

Keys travel as ``Authorization: Bearer apk_...`` (or ``X-API-Key``). Only a
digest of each key is stored; see ``accounts.models.ApiKey``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from appliance.accounts.models import ApiKey, User
from appliance.accounts.services import KEY_PREFIX, find_api_key
from appliance.api.scopes import InsufficientScope, key_may_call
from appliance.audit.models import Outcome
from appliance.audit.services import record

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        plaintext = self._key_from(request)
        if plaintext is None:
            return None
        key = find_api_key(plaintext)
        if key is None:
            record(
                "auth.api_key_rejected",
                outcome=Outcome.DENIED,
                details={"path": request.path[:200]},
                durable=True,
            )
            raise exceptions.AuthenticationFailed(
                "The API key is invalid, expired or revoked."
            )
        if not key_may_call(key, request._request):
            record(
                "auth.api_key_out_of_scope",
                actor=key.user,
                outcome=Outcome.DENIED,
                object_type="api_key",
                object_id=key.prefix,
                details={"path": request.path[:200]},
                durable=True,
            )
            raise InsufficientScope()
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword

    def _key_from(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith(f"{self.keyword} {KEY_PREFIX}_"):
            return header[len(self.keyword) + 1 :].strip()
        api_key: Any = request.headers.get("X-API-Key")
        return api_key.strip() if api_key else None
