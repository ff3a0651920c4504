"""Idempotency keys for POST requests.

A client that sends ``Idempotency-Key: <string>`` with a POST may send the
same request again (after a timeout, a dropped connection) and gets the first
response back instead of a second job. The key is per user. Sending the same
key with a different request is an error (422), and so is sending it while
the first request is still running (409). Responses with a 5xx status are
not kept, so the client can retry them. Keys expire after
``APPLIANCE_IDEMPOTENCY_TTL`` seconds.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from appliance import crypto
from appliance.accounts.models import User
from appliance.api.errors import ApiProblem
from appliance.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# A record still in progress after this long belongs to a request whose
# process died; a new request with the same key takes it over.
ABANDONED_AFTER = timedelta(minutes=5)


class Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def fingerprint(request: Request) -> str:
    """SHA-256 over the method, path and content of ``request``: its JSON
    body, or its form fields and the bytes of its uploaded files."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    data: Any = request.data
    if hasattr(data, "lists"):
        for name, values in sorted(data.lists()):
            for value in values:
                digest.update(f"{name}=".encode())
                if isinstance(value, UploadedFile):
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(str(value).encode())
                digest.update(b"\n")
    else:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _aad(record_id: object) -> bytes:
    return f"idempotency:{record_id}".encode()


def _replay(record: IdempotencyRecord) -> Response:
    assert record.response_sealed is not None and record.status_code is not None
    body = crypto.unseal(bytes(record.response_sealed), aad=_aad(record.id))
    headers = {REPLAYED_HEADER: "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(json.loads(body), status=record.status_code, headers=headers)


def begin(request: Request, raw_key: str) -> IdempotencyRecord:
    """Claim ``raw_key`` for this request. Raises Replay with the stored
    response when the same request already finished, or ApiProblem."""
    key = raw_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiProblem(
            "invalid_idempotency_key",
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters.",
            status.HTTP_400_BAD_REQUEST,
        )
    user = request.user
    assert isinstance(user, User)  # the view requires authentication
    request_print = fingerprint(request)
    now = timezone.now()
    ttl = timedelta(seconds=settings.IDEMPOTENCY_TTL)
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=request.method or "",
                    path=request.path[:500],
                    fingerprint=request_print,
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue
        stale = existing.created_at < now - ttl or (
            existing.completed_at is None
            and existing.created_at < now - ABANDONED_AFTER
        )
        if stale:
            existing.delete()
            continue
        if existing.fingerprint != request_print:
            raise ApiProblem(
                "idempotency_key_reused",
                f"This {HEADER} was used with a different request. Use a new "
                "key for a new request.",
                status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        if existing.completed_at is None:
            raise ApiProblem(
                "idempotency_request_in_progress",
                f"A request with this {HEADER} is still running. Retry shortly.",
                status.HTTP_409_CONFLICT,
                headers={"Retry-After": "2"},
            )
        raise Replay(_replay(existing))
    raise ApiProblem(
        "idempotency_request_in_progress",
        f"A request with this {HEADER} is still running. Retry shortly.",
        status.HTTP_409_CONFLICT,
        headers={"Retry-After": "2"},
    )


def finish(record: IdempotencyRecord, response: Response) -> None:
    """Keep ``response`` for replays, or forget the key after a server error
    so that the client's retry runs again."""
    if response.status_code >= 500 or response.data is None:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    body = json.dumps(response.data, default=str).encode()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed_at=timezone.now(),
        status_code=response.status_code,
        location=str(response.headers.get("Location", ""))[:500],
        response_sealed=crypto.seal(body, aad=_aad(record.pk)),
    )


def prune() -> int:
    """Delete records older than the TTL; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class IdempotentMixin:
    """For APIViews whose POST creates something: honours the
    ``Idempotency-Key`` header. Authentication, permissions and rate limits
    run first, so a replay is only served to the user who made the request."""

    _idempotency: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency = None
        raw = request.headers.get(HEADER)
        if request.method == "POST" and raw is not None:
            self._idempotency = begin(request, raw)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return exc.response
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Any:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        record, self._idempotency = self._idempotency, None
        if record is not None and isinstance(response, Response):
            finish(record, response)
        return response
