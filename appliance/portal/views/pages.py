"""The home page, the compliance check and the job pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from appliance.accounts.models import User
from appliance.annotation.services import result_for as annotation_result_for
from appliance.api.serializers import REASON_MESSAGES
from appliance.compliance.services import result_for
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Reason, State, Workload
from appliance.portal import highlight
from appliance.portal.forms import ComplianceCheckForm
from appliance.portal.views import escalations
from appliance.portal.views.access import requires, signed_in_user

JOBS_PER_PAGE = 20
# Seconds between two polls of a running job's result.
POLL_SECONDS = 2


@require_GET
@requires()
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    recent = Job.objects.visible_to(user).filter(owner=user)[:5]
    return render(request, "portal/home.html", {"recent": recent})


@require_http_methods(["GET", "POST"])
@requires("jobs.submit_job")
def compliance_new(request: HttpRequest) -> HttpResponse:
    form = ComplianceCheckForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = jobs.submit(
            signed_in_user(request),
            Workload.COMPLIANCE_CHECK,
            text=data["text"],
            source=data["source"],
            options={"rulebook": data["rulebook"]},
        )
        return redirect("portal:job", job_id=job.id)
    return render(request, "portal/compliance_new.html", {"form": form})


@require_GET
@requires()
def job_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    owned = Job.objects.visible_to(user).filter(owner=user)
    page = Paginator(owned, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/job_list.html", {"page": page})


def _visible(request: HttpRequest, job_id: uuid.UUID) -> Job:
    job = jobs.visible_job(signed_in_user(request), job_id)
    if job is None:
        raise Http404("No such job.")
    return job


def _result_context(job: Job, user: User) -> dict[str, Any]:
    """Build the result fragment's context: the state while the job runs,
    then the verdict, with the findings marked in the text for the owner."""
    context: dict[str, Any] = {
        "job": job,
        "poll_seconds": POLL_SECONDS,
        "reason_message": REASON_MESSAGES.get(Reason(job.reason), "")
        if job.reason
        else "",
    }
    if job.workload == Workload.ANNOTATION:
        if job.state == State.SUCCEEDED:
            context["annotation"] = annotation_result_for(job, user)
        return context

    result = result_for(job, user) if job.is_final else None
    if result is None:
        return context

    findings = result.get("findings", [])
    context.update(result=result, findings=list(enumerate(findings, start=1)))
    submitted = jobs.input_for(job, user)
    if submitted is not None:
        context["segments"] = highlight.segments(submitted["text"], findings)
        context["source"] = submitted.get("source") or {}
    return context


@require_GET
@requires()
def job_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = _visible(request, job_id)
    context = _result_context(job, signed_in_user(request))
    context["destinations"] = escalations.destinations()
    return render(request, "portal/job_detail.html", context)


@require_GET
@requires()
def job_result(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Render the result fragment that the job page polls with htmx."""
    job = _visible(request, job_id)
    context = _result_context(job, signed_in_user(request))
    return render(request, "portal/_result.html", context)
