"""Escalation requests: a person's own requests, and the approvers' queue.
Approving and rejecting go through ``escalation.services``, which rejects an
approver deciding on their own request and binds the decision to the exact
body shown."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from appliance.escalation import providers
from appliance.escalation import services as escalations
from appliance.escalation.errors import EscalationError
from appliance.escalation.models import EscalationRequest, State
from appliance.jobs import services as jobs
from appliance.portal.views.access import requires, signed_in_user

APPROVE_PERMISSION = "escalation.approve_escalation"


@require_GET
@requires("escalation.request_escalation")
def mine(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    own = escalations.visible_to(user).filter(requester=user).order_by("-created_at")
    return render(request, "portal/escalation_list.html", {"requests": own[:50]})


@require_GET
@requires(APPROVE_PERMISSION)
def approvals(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    waiting = (
        escalations.visible_to(user)
        .filter(state=State.PENDING)
        .exclude(requester=user)
        .order_by("created_at")
    )
    return render(request, "portal/approvals.html", {"requests": waiting})


def _visible(request: HttpRequest, request_id: uuid.UUID) -> EscalationRequest:
    user = signed_in_user(request)
    found = escalations.visible_to(user).filter(id=request_id).first()
    if found is None:
        raise Http404("No such request.")
    escalations.expire_if_due(found)
    return found


@require_GET
@requires("escalation.request_escalation")
def detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    found = _visible(request, request_id)
    context = {
        "escalation": found,
        "body": escalations.read_body(found, user).decode(),
        "answer": escalations.answer_for(found, user),
        "can_decide": user.has_perm(APPROVE_PERMISSION)
        and found.requester_id != user.pk
        and found.state == State.PENDING,
    }
    return render(request, "portal/escalation.html", context)


@require_POST
@requires(APPROVE_PERMISSION)
def decide(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    found = _visible(request, request_id)
    actions = {"approve": escalations.approve, "reject": escalations.reject}
    action = actions.get(request.POST.get("decision", ""))
    if action is None:
        messages.error(request, "Choose approve or reject.")
        return redirect("portal:escalation", request_id=request_id)
    try:
        action(
            found,
            user,
            body_sha256=request.POST.get("body_sha256", ""),
            reason=request.POST.get("reason", ""),
            otp=request.POST.get("otp") or None,
        )
    except EscalationError as error:
        messages.error(request, error.message)
        return redirect("portal:escalation", request_id=request_id)
    messages.success(request, "Decision recorded.")
    return redirect("portal:approvals")


def destinations() -> list[tuple[str, str]]:
    """Return ("provider/model", label) for every configured external model."""
    return [
        (f"{name}/{model}", f"{name}: {model}")
        for name, provider in sorted(providers.all_providers().items())
        for model in sorted(provider.models)
    ]


@require_POST
@requires("escalation.request_escalation")
def create(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Ask for a finished job to go to an external model. The policy decides
    at once whether the request is denied or waits for approval."""
    user = signed_in_user(request)
    job = jobs.visible_job(user, job_id)
    if job is None:
        raise Http404("No such job.")
    provider, _, model = request.POST.get("destination", "").partition("/")
    proposal = escalations.Proposal(
        job=job,
        provider=provider,
        model=model,
        question=request.POST.get("question", "")[: escalations.MAX_QUESTION_CHARS],
    )
    try:
        created = escalations.create(user, proposal)
    except EscalationError as error:
        messages.error(request, error.message)
        return redirect("portal:job", job_id=job_id)
    return redirect("portal:escalation", request_id=created.id)


@require_POST
@requires("escalation.request_escalation")
def accept(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Mark the answer useful; only its requester may, and the accepted
    exchange becomes a distillation example."""
    found = _visible(request, request_id)
    try:
        escalations.accept(found, signed_in_user(request))
    except EscalationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Answer accepted.")
    return redirect("portal:escalation", request_id=request_id)
