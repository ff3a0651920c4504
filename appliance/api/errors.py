"""The one error shape of the API:

    {"error": {"code": "not_found", "message": "...", "request_id": "..."}}

``code`` is stable for clients to branch on; ``message`` is a sentence a
person can act on. An exception's own text is never returned: it could quote
the request's content.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.errors import ApplianceError
from appliance.logging import current_context

logger = logging.getLogger(__name__)

_MESSAGES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotAuthenticated: (
        "not_authenticated",
        "Sign in, or send an API key as 'Authorization: Bearer apk_...'.",
    ),
    exceptions.PermissionDenied: (
        "permission_denied",
        "Your role does not allow this action. Ask an administrator for access.",
    ),
    exceptions.NotFound: ("not_found", "Nothing exists at this address for you."),
    exceptions.MethodNotAllowed: (
        "method_not_allowed",
        "This address does not accept that HTTP method.",
    ),
    exceptions.ParseError: (
        "malformed_request",
        "The request body could not be parsed. Send valid JSON or multipart data.",
    ),
    exceptions.UnsupportedMediaType: (
        "unsupported_media_type",
        "Send application/json or multipart/form-data.",
    ),
    exceptions.NotAcceptable: (
        "not_acceptable",
        "This endpoint returns application/json only.",
    ),
}


def error_response(
    code: str,
    message: str,
    http_status: int,
    *,
    fields: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "request_id": current_context().get("request_id", ""),
    }
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=http_status, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApplianceError):
        return error_response(exc.reason, exc.message, status.HTTP_400_BAD_REQUEST)

    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            "invalid_request",
            "The request is invalid; see 'fields' for what to fix.",
            status.HTTP_400_BAD_REQUEST,
            fields=exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail},
        )

    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        _audit_denial("auth.denied", request)
        code = (
            "authentication_failed"
            if isinstance(exc, exceptions.AuthenticationFailed)
            else "not_authenticated"
        )
        message = (
            str(exc.detail)
            if isinstance(exc, exceptions.AuthenticationFailed)
            else _MESSAGES[exceptions.NotAuthenticated][1]
        )
        return error_response(
            code,
            message,
            status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )

    if isinstance(exc, exceptions.PermissionDenied):
        _audit_denial("access.denied", request)

    if isinstance(exc, exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        return error_response(
            "rate_limited",
            f"Too many requests. Try again in {wait} seconds.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )

    for exc_type, (code, message) in _MESSAGES.items():
        if isinstance(exc, exc_type):
            return error_response(code, message, exc.status_code)

    if isinstance(exc, exceptions.APIException):
        return error_response("request_failed", "The request failed.", exc.status_code)

    logger.error(
        "unhandled %s in an API view at:\n%s",
        type(exc).__name__,
        "".join(traceback.format_tb(exc.__traceback__)),
    )
    return error_response(
        "internal_error",
        "The appliance failed to handle the request. The request id identifies "
        "it in the server log.",
        status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _audit_denial(action: str, request: Any) -> None:
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    record(
        action,
        actor=actor,
        outcome=Outcome.DENIED,
        details={
            "path": request.path[:200] if request is not None else "",
            "method": request.method if request is not None else "",
        },
        durable=True,
    )
