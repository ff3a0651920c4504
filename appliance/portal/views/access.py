"""The role check every portal page goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from appliance.accounts.models import User
from appliance.audit.models import Outcome
from appliance.audit.services import record

View = Callable[..., HttpResponse]


def signed_in_user(request: HttpRequest) -> User:
    """Return the user of a request that passed ``requires``."""
    assert isinstance(request.user, User)
    return request.user


def requires(permission: str | None = None) -> Callable[[View], View]:
    """Let a signed-in person through, and with ``permission`` only those who
    hold it; others get a 403 page and an ``access.denied`` event. Service
    accounts sign in with API keys only and never reach a page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(), reverse("portal:login")
                )
            if (
                not isinstance(user, User)
                or user.is_service_account
                or (permission is not None and not user.has_perm(permission))
            ):
                return deny(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def deny(request: HttpRequest) -> HttpResponse:
    record(
        "access.denied",
        actor=request.user if request.user.is_authenticated else None,
        object_type="portal",
        outcome=Outcome.DENIED,
        details={"path": request.path[:200], "method": request.method},
        durable=True,
    )
    return render(request, "portal/denied.html", status=403)
