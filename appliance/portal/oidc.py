"""OpenID Connect single sign-on (mozilla-django-oidc), on when
APPLIANCE_OIDC_CLIENT_ID is set."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from appliance.accounts.models import User


class ApplianceOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Sign in existing, active people by the e-mail address the identity
    provider vouches for. Roles stay with the appliance's administrators, so
    an unknown address is rejected rather than given a new account, and a
    service account never signs in through a browser."""

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        email = claims.get("email")
        if not email or claims.get("email_verified") is False:
            return User.objects.none()
        return User.objects.filter(
            email__iexact=email, is_active=True, is_service_account=False
        )
