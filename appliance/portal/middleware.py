"""Session rules for every signed-in browser: the idle timeout and the
second factor. They apply to the portal, the admin and the audit console
alike, because all three share one Django session."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from appliance.accounts.models import User
from appliance.api.errors import error_body
from appliance.audit.services import record
from appliance.portal import twofactor

LAST_ACTIVITY = "portal_last_activity"
# Requests with this header (htmx polling a running job) do not count as
# activity, so an open result page cannot keep a session alive forever.
BACKGROUND_HEADER = "X-Background"
# Paths answered in the API's JSON error shape rather than with pages:
# the enterprise API and the OpenAI-compatible endpoints.
API_PREFIXES = ("/api/", "/v1/")

Handler = Callable[[HttpRequest], HttpResponse]


def _to_login(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to ``url`` and back to the page it was on afterwards."""
    target = f"{url}?{urlencode({'next': request.get_full_path()})}"
    if request.headers.get("HX-Request"):
        # htmx would swap a redirected page into the fragment; it follows
        # this header with a full page load instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


class IdleSessionMiddleware:
    """End a session that made no request for APPLIANCE_SESSION_IDLE_SECONDS."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.get_response(request)

        now = time.time()
        last = request.session.get(LAST_ACTIVITY)
        if isinstance(last, int | float) and now - last > settings.SESSION_IDLE_SECONDS:
            user = request.user
            record(
                "auth.session_expired",
                actor=user,
                object_type="user",
                object_id=user.pk,
                details={"idle_seconds": int(now - last)},
            )
            logout(request)
            if request.path.startswith(API_PREFIXES):
                return self.get_response(request)
            messages.info(
                request,
                "Your session ended because it was idle for more than "
                f"{settings.SESSION_IDLE_SECONDS // 60} minutes. Sign in again.",
            )
            return _to_login(request, reverse("portal:login"))

        if not request.headers.get(BACKGROUND_HEADER) or last is None:
            request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("portal:verify"),
        reverse("portal:enrol"),
        reverse("portal:logout"),
        "/" + settings.STATIC_URL.lstrip("/"),
        "/healthz",
    )


class SecondFactorMiddleware:
    """Keep a session whose user needs a second factor (see
    ``twofactor.is_required``) away from everything but enrolment,
    verification and sign-out until the factor is verified."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            not isinstance(user, User)
            or user.is_verified()  # type: ignore[attr-defined]
            or request.path.startswith(_exempt_paths())
            or not twofactor.is_required(user)
        ):
            return self.get_response(request)

        if request.path.startswith(API_PREFIXES):
            return JsonResponse(
                error_body(
                    "second_factor_required",
                    "This account needs a second factor. Sign in to the portal "
                    "and enter the code from your authenticator app first.",
                ),
                status=403,
            )
        if twofactor.confirmed_device(user) is None:
            return _to_login(request, reverse("portal:enrol"))
        return _to_login(request, reverse("portal:verify"))
