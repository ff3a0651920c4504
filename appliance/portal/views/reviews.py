"""The reviewer's queue: accept or override each finding, then sign off.
Every decision goes through ``compliance.reviews``, which checks that the
review is routed to the user and that nobody reviews their own check."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from appliance.compliance import reviews
from appliance.compliance.models import Decision
from appliance.portal import highlight
from appliance.portal.views.access import requires, signed_in_user


@require_GET
@requires(reviews.REVIEW_PERMISSION)
def queue(request: HttpRequest) -> HttpResponse:
    waiting = list(reviews.queue_for(signed_in_user(request)))
    return render(request, "portal/review_queue.html", {"reviews": waiting})


def _review(request: HttpRequest, review_id: uuid.UUID) -> Any:
    try:
        return reviews.review_for(signed_in_user(request), review_id)
    except reviews.ReviewError as error:
        raise Http404(error.message) from error


@require_GET
@requires(reviews.REVIEW_PERMISSION)
def review(request: HttpRequest, review_id: uuid.UUID) -> HttpResponse:
    found = _review(request, review_id)
    detail = reviews.detail(found)
    decided = {row["index"]: row for row in detail["record"]["decisions"]}
    findings = [
        (index + 1, index, finding, decided.get(index))
        for index, finding in enumerate(detail["findings"])
    ]
    context = {
        "review": found,
        "detail": detail,
        "findings": findings,
        "segments": highlight.segments(detail["text"], detail["findings"]),
        "decisions": Decision.choices,
        "verdicts": reviews.FINAL_VERDICTS,
    }
    return render(request, "portal/review.html", context)


@require_POST
@requires(reviews.REVIEW_PERMISSION)
def decide(request: HttpRequest, review_id: uuid.UUID, index: int) -> HttpResponse:
    found = _review(request, review_id)
    try:
        reviews.decide(
            found,
            signed_in_user(request),
            index,
            request.POST.get("decision", ""),
            request.POST.get("reason", ""),
        )
    except reviews.ReviewError as error:
        messages.error(request, f"Finding {index + 1}: {error.message}")
    else:
        messages.success(request, f"Finding {index + 1}: decision saved.")
    return redirect("portal:review", review_id=review_id)


@require_POST
@requires(reviews.REVIEW_PERMISSION)
def sign_off(request: HttpRequest, review_id: uuid.UUID) -> HttpResponse:
    found = _review(request, review_id)
    try:
        reviews.sign_off(
            found,
            signed_in_user(request),
            request.POST.get("verdict", ""),
            request.POST.get("reason", ""),
        )
    except reviews.ReviewError as error:
        messages.error(request, error.message)
        return redirect("portal:review", review_id=review_id)
    messages.success(request, "Review signed off.")
    return redirect("portal:reviews")
