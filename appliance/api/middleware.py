"""Request ids: taken from a well-formed ``X-Request-ID`` header or generated,
put into every log line and audit event of the request, and echoed back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from appliance.logging import log_context

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(HEADER, "")
        request_id = supplied if _VALID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        client_ip = request.META.get("REMOTE_ADDR", "")
        with log_context(request_id=request_id, client_ip=client_ip):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
