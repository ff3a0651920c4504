"""Request context: the request id and the client's address.

The request id is taken from a well-formed ``X-Request-ID`` header or
generated, put into every log line and audit event of the request, and
echoed back. The client's address is REMOTE_ADDR, or, when that is a trusted
proxy (APPLIANCE_TRUSTED_PROXIES), the nearest untrusted address in
X-Forwarded-For.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

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
        client_ip = client_address(request)
        with log_context(request_id=request_id, client_ip=client_ip):
            response = self.get_response(request)
        response[HEADER] = request_id
        if request.path.startswith("/api/"):
            # API responses carry job content; no browser or proxy may keep them.
            add_never_cache_headers(response)
        return response


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    for candidate in reversed([part.strip() for part in forwarded.split(",")]):
        if candidate in trusted:
            continue
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote
