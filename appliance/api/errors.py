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
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from appliance.api.scopes import InsufficientScope
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.errors import ApplianceError
from appliance.logging import current_context

logger = logging.getLogger(__name__)

# Exceptions answered with a fixed code and message, most specific first.
_FIXED: list[tuple[type[BaseException], int, str, str]] = [
    (
        RequestDataTooBig,
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "request_too_large",
        "The request body is larger than this appliance accepts. Send a smaller "
        "text, or the document as a file upload.",
    ),
    (
        TooManyFieldsSent,
        status.HTTP_400_BAD_REQUEST,
        "too_many_fields",
        "The request has too many form fields.",
    ),
    (
        RecursionError,
        status.HTTP_400_BAD_REQUEST,
        "malformed_request",
        "The request body is nested too deeply to parse.",
    ),
    (
        exceptions.NotFound,
        status.HTTP_404_NOT_FOUND,
        "not_found",
        "Nothing exists at this address for you.",
    ),
    (
        exceptions.MethodNotAllowed,
        status.HTTP_405_METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This address does not accept that HTTP method.",
    ),
    (
        exceptions.ParseError,
        status.HTTP_400_BAD_REQUEST,
        "malformed_request",
        "The request body could not be parsed. Send valid JSON or multipart data.",
    ),
    (
        exceptions.UnsupportedMediaType,
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "Send application/json or multipart/form-data.",
    ),
    (
        exceptions.NotAcceptable,
        status.HTTP_406_NOT_ACCEPTABLE,
        "not_acceptable",
        "This endpoint returns application/json only.",
    ),
]


class ApiProblem(exceptions.APIException):
    """An error with its own stable code, answered in the error shape."""

    def __init__(
        self,
        code: str,
        message: str,
        http_status: int,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = http_status
        self.headers = headers


NOT_AUTHENTICATED = "Sign in, or send an API key as 'Authorization: Bearer apk_...'."
PERMISSION_DENIED = (
    "Your role does not allow this action. Ask an administrator for access."
)
CSRF_FAILED = (
    "The CSRF check failed. A browser session must send the CSRF token; "
    "scripts should authenticate with an API key instead."
)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "request_id": current_context().get("request_id", ""),
    }
    body.update({key: value for key, value in extra.items() if value})
    return {"error": body}


def error_response(
    code: str,
    message: str,
    http_status: int,
    *,
    fields: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        error_body(code, message, fields=fields), status=http_status, headers=headers
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApiProblem):
        return error_response(
            exc.code, exc.message, exc.status_code, headers=exc.headers
        )
    if isinstance(exc, ApplianceError):
        return error_response(exc.reason, exc.message, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        return error_response(
            "invalid_request",
            "The request is invalid; see 'fields' for what to fix.",
            status.HTTP_400_BAD_REQUEST,
            fields=detail if isinstance(detail, dict) else {"non_field_errors": detail},
        )
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return _unauthenticated(exc, request)
    if isinstance(exc, exceptions.PermissionDenied):
        return _forbidden(exc, request)
    if isinstance(exc, exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        return error_response(
            "rate_limited",
            f"Too many requests. Try again in {wait} seconds.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    for exc_type, http_status, code, message in _FIXED:
        if isinstance(exc, exc_type):
            return error_response(code, message, http_status)
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


def _unauthenticated(exc: exceptions.APIException, request: Any) -> Response:
    _audit_denial("auth.denied", request)
    if isinstance(exc, exceptions.AuthenticationFailed):
        code, message = "authentication_failed", str(exc.detail)
    else:
        code, message = "not_authenticated", NOT_AUTHENTICATED
    return error_response(
        code,
        message,
        status.HTTP_401_UNAUTHORIZED,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _forbidden(exc: exceptions.APIException, request: Any) -> Response:
    # DRF's session authentication reports a missing CSRF token this way.
    if isinstance(exc, InsufficientScope):
        # The authentication class has recorded the refusal with the key.
        return error_response(
            "insufficient_scope", str(exc.detail), status.HTTP_403_FORBIDDEN
        )
    if str(exc.detail).startswith("CSRF Failed"):
        _audit_denial("auth.csrf_failed", request)
        return error_response("csrf_failed", CSRF_FAILED, status.HTTP_403_FORBIDDEN)
    _audit_denial("access.denied", request)
    return error_response(
        "permission_denied", PERMISSION_DENIED, status.HTTP_403_FORBIDDEN
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


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> Any:
    """Django's 404 handler: the API's error shape under /api/ and /v1/, else
    the default page."""
    if request.path.startswith(("/api/", "/v1/")):
        return JsonResponse(
            error_body("not_found", "Nothing exists at this address for you."),
            status=404,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())
