"""The auditors' console: server-rendered pages under /audit/.

Every page needs a signed-in account with the right permission (see
access.py); anyone else gets a 403 page and a ``access.denied`` event. Every
read of the log through the console is itself recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from appliance.accounts.models import User
from appliance.audit import access, verification
from appliance.audit.bundle import ExportError, export_bundle
from appliance.audit.forms import AccessForm, EventFilter, ExportForm, RevealForm
from appliance.audit.health import chain_status
from appliance.audit.models import LogEntry, Outcome, VerificationRun
from appliance.audit.services import record

PAGE_SIZE = 50
View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    """The signed-in user of a request that passed ``allowed``."""
    assert isinstance(request.user, User)
    return request.user


def allowed(check: Callable[[Any], bool]) -> Callable[[View], View]:
    """Let a request through only when ``check(user)`` holds."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(), reverse("audit:login")
                )
            if not check(request.user):
                return _deny(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _deny(request: HttpRequest) -> HttpResponse:
    record(
        "access.denied",
        actor=request.user,
        object_type="audit_console",
        outcome=Outcome.DENIED,
        details={"path": request.path[:200], "method": request.method},
        durable=True,
    )
    return render(request, "audit/denied.html", status=403)


def _filtered(form: EventFilter) -> QuerySet[LogEntry]:
    entries = LogEntry.objects.order_by("-seq")
    data = form.cleaned_data
    if data.get("actor") is not None:
        entries = entries.filter(actor_id=data["actor"])
    for name in ("action", "object_type", "object_id"):
        if data.get(name):
            entries = entries.filter(**{name: data[name]})
    if data.get("start"):
        entries = entries.filter(occurred_at__gte=data["start"])
    if data.get("end"):
        entries = entries.filter(occurred_at__lt=data["end"])
    return entries.defer("ciphertext")


def _usernames(entries: list[LogEntry]) -> dict[int, str]:
    ids = {entry.actor_id for entry in entries if entry.actor_id is not None}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))


@require_http_methods(["GET"])
@allowed(access.can_view)
def events(request: HttpRequest) -> HttpResponse:
    form = EventFilter(request.GET)
    entries = _filtered(form) if form.is_valid() else LogEntry.objects.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    record(
        "audit.searched",
        actor=request.user,
        object_type="audit_log",
        details={**(form.summary() if form.is_valid() else {}), "shown": len(page)},
    )
    shown = list(page)
    names = _usernames(shown)
    return render(
        request,
        "audit/events.html",
        {
            "form": form,
            "page": page,
            "rows": [(row, names.get(row.actor_id or -1)) for row in shown],
            "status": chain_status(),
            "query": request.GET.copy().urlencode() if request.GET else "",
        },
    )


@require_http_methods(["GET", "POST"])
@allowed(access.can_view)
def entry(request: HttpRequest, seq: int) -> HttpResponse:
    item = LogEntry.objects.defer("ciphertext").filter(seq=seq).first()
    if item is None:
        return render(request, "audit/missing.html", {"seq": seq}, status=404)
    revealed = None
    form = RevealForm(request.POST or None)
    if request.method == "POST":
        if not access.can_reveal(request.user):
            return _deny(request)
        if form.is_valid():
            try:
                revealed = access.reveal(
                    seq, _user(request), form.cleaned_data["reason"]
                )
            except access.RevealError as exc:
                form.add_error(None, str(exc))
    else:
        record(
            "audit.entry_viewed",
            actor=request.user,
            object_type="audit_entry",
            object_id=seq,
        )
    context = {
        "item": item,
        "actor_name": _usernames([item]).get(item.actor_id or -1),
        "form": form,
        "can_reveal": access.can_reveal(request.user),
        "revealed": revealed,
        "revealed_details": (
            json.dumps(revealed.get("details", {}), indent=2, sort_keys=True)
            if revealed
            else ""
        ),
    }
    return render(request, "audit/entry.html", context)


@require_http_methods(["GET", "POST"])
@allowed(access.can_view)
def export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exported = export_bundle(
                form.cleaned_data["start"], form.cleaned_data["end"], actor=request.user
            )
        except ExportError as exc:
            form.add_error(None, str(exc))
        else:
            response = HttpResponse(exported.data, content_type="application/json")
            name = f"audit-bundle-{exported.first_seq}-{exported.end_seq}.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(request, "audit/export.html", {"form": form})


@require_POST
@allowed(access.can_view)
def verify(request: HttpRequest) -> HttpResponse:
    last = VerificationRun.objects.filter(ok=True).first()
    full = request.POST.get("mode") == "full" or last is None
    since = None if full else last.checked_size if last else 0
    _, report = verification.run_verification(
        full=full, since=since, actor=request.user
    )
    if report.ok:
        messages.success(
            request,
            f"The log verifies: {report.checked} entries checked from "
            f"{report.from_size}, {report.uncovered} not yet checkpointed.",
        )
    else:
        messages.error(
            request,
            f"Verification FAILED at entry {report.first_bad_index}: {report.problem}",
        )
    return redirect("audit:events")


@require_http_methods(["GET", "POST"])
@allowed(access.can_manage)
def manage_access(request: HttpRequest) -> HttpResponse:
    form = AccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["username"]
        access.set_reveal(_user(request), user, allowed=form.cleaned_data["allowed"])
        verb = "may now" if form.cleaned_data["allowed"] else "may no longer"
        messages.success(request, f"{user.username} {verb} reveal encrypted fields.")
        return redirect("audit:access")
    holders = User.objects.filter(
        user_permissions__codename="reveal_audit_field"
    ).order_by("username")
    return render(
        request,
        "audit/access.html",
        {"form": form, "holders": holders, "status": chain_status()},
    )
