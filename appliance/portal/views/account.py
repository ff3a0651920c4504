"""Sign-in, the second factor and sign-out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from appliance.portal import twofactor
from appliance.portal.forms import SignInForm, TokenForm
from appliance.portal.views.access import requires, signed_in_user


class SignInView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.OIDC_ENABLED
        return context


class SignOutView(auth_views.LogoutView):
    next_page = "portal:login"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_http_methods(["GET", "POST"])
@requires()
def verify(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if twofactor.confirmed_device(user) is None:
        return redirect("portal:enrol")
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if twofactor.verify(request, user, form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "The code is wrong or expired. Wait for the next code and enter it; "
            "after several wrong codes each new try has to wait longer.",
        )
    return render(
        request, "portal/verify.html", {"form": form, "next": _next_url(request)}
    )


@require_http_methods(["GET", "POST"])
@requires()
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app. A user who already has one must pass it
    first (the middleware sends them to verification), so a stolen password
    cannot replace the device."""
    user = signed_in_user(request)
    if twofactor.confirmed_device(user) is not None and not user.is_verified():  # type: ignore[attr-defined]
        return redirect("portal:verify")
    device = twofactor.pending_device(user)
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if twofactor.confirm(request, user, device, form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error(
            "token", "The code does not match. Scan the code again and retry."
        )
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": twofactor.qr_svg(device),
        "otpauth_uri": device.config_url,
    }
    return render(request, "portal/enrol.html", context)
