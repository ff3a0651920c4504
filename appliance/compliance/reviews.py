"""Human review of fail and needs_review verdicts.

A review is opened when a check ends in fail or needs_review, and routed to
an active user with the reviewer role other than the requester (the one
with the fewest open reviews). A reviewer sees only reviews routed to them;
they accept or override each finding with a reason and sign off with a
final verdict. Every step is audited; reasons are stored sealed because they
can quote the checked text. The review never escalates anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from appliance import crypto
from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.compliance import prompts, store
from appliance.compliance.models import (
    Decision,
    FindingDecision,
    Review,
    ReviewState,
    RulebookVersion,
)
from appliance.compliance.patterns import match_rule
from appliance.jobs import payloads
from appliance.jobs.models import Job, State

REVIEW_PERMISSION = "compliance.review_compliance"
FINAL_VERDICTS = ("pass", "fail")
MAX_REASON_CHARS = 4000


class ReviewError(Exception):
    """A review action that cannot be done; ``code`` is stable for clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _aad(review: Review, field: str) -> bytes:
    return f"review:{review.pk}:{field}".encode()


def _seal(review: Review, field: str, text: str) -> bytes:
    return crypto.seal(text.encode(), aad=_aad(review, field))


def _unseal(review: Review, field: str, blob: bytes | memoryview | None) -> str:
    if blob is None:
        return ""
    return crypto.unseal(bytes(blob), aad=_aad(review, field)).decode()


def reviewers() -> QuerySet[User]:
    """Active people whose roles grant the review permission."""
    app_label, codename = REVIEW_PERMISSION.split(".")
    return User.objects.filter(
        is_active=True,
        is_service_account=False,
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    ).distinct()


def open_review(job: Job, result: dict[str, Any]) -> Review | None:
    """Open (or, on a repeated delivery, refresh) the review of a fail or
    needs_review verdict; return None for a pass."""
    if result["verdict"] == "pass":
        return None
    version = RulebookVersion.objects.get(
        rulebook__slug=result["rulebook"]["id"],
        number=int(result["rulebook"]["version"]),
    )
    model = result["model"]
    fields = {
        "requester_id": job.owner_id,
        "machine_verdict": result["verdict"],
        "suggest_escalation": bool(result.get("suggest_escalation")),
        "rulebook_version": version,
        "engine": model["engine"],
        "model": model.get("engine_model") or model["model"],
        "model_version": model.get("model_version", ""),
        "prompt_hash": model.get("prompt_hash", ""),
        "schema_hash": model.get("schema_hash", ""),
    }
    with transaction.atomic():
        review, created = Review.objects.get_or_create(job=job, defaults=fields)
        if not created:
            if review.state != ReviewState.OPEN:
                return review
            for name, value in fields.items():
                setattr(review, name, value)
            review.save()
            return review
        record(
            "compliance.review_opened",
            actor=job.owner,
            object_type="compliance.review",
            object_id=review.pk,
            details={
                "job": str(job.pk),
                "verdict": review.machine_verdict,
                "findings": len(result["findings"]),
            },
        )
        route(review)
    return review


def route(review: Review) -> User | None:
    """Assign the review to the reviewer with the fewest open reviews, never
    the requester; leave it unassigned when there is none."""
    candidate = (
        reviewers()
        .exclude(pk=review.requester_id)
        .annotate(
            open_reviews=Count(
                "compliance_reviews",
                filter=Q(compliance_reviews__state=ReviewState.OPEN),
            )
        )
        .order_by("open_reviews", "pk")
        .first()
    )
    if candidate is not None:
        _assign(review, candidate)
    return candidate


def _assign(review: Review, reviewer: User) -> None:
    review.reviewer = reviewer
    review.assigned_at = timezone.now()
    review.save(update_fields=["reviewer", "assigned_at"])
    Job.objects.filter(pk=review.job_id).update(reviewer=reviewer)
    record(
        "compliance.review_assigned",
        actor=None,
        object_type="compliance.review",
        object_id=review.pk,
        details={"reviewer_id": reviewer.pk},
    )


def queue_for(user: User) -> QuerySet[Review]:
    """Return the open reviews routed to ``user``, first routing to them any
    that found no reviewer when they were opened."""
    with transaction.atomic():
        waiting = (
            Review.objects.select_for_update(skip_locked=True)
            .filter(reviewer__isnull=True, state=ReviewState.OPEN)
            .exclude(requester=user)
        )
        for review in waiting:
            _assign(review, user)
    return (
        Review.objects.filter(
            reviewer=user, state=ReviewState.OPEN, job__state=State.SUCCEEDED
        )
        .select_related("job", "rulebook_version__rulebook")
        .order_by("created_at")
    )


def review_for(user: User, review_id: Any) -> Review:
    """Return the review if it is routed to ``user``; raise ReviewError
    ``not_found`` otherwise, so that review ids reveal nothing."""
    review = (
        Review.objects.filter(pk=review_id, reviewer=user, job__state=State.SUCCEEDED)
        .select_related("job", "rulebook_version__rulebook", "requester", "reviewer")
        .first()
    )
    if review is None:
        raise ReviewError("not_found", "Nothing exists at this address for you.")
    return review


def _result(review: Review) -> dict[str, Any]:
    result = payloads.read_result(review.job)
    if result is None:
        raise ReviewError("not_found", "The check has no stored verdict.")
    return result


def _check_reviewer(review: Review, user: User) -> None:
    if user.pk == review.requester_id:
        raise ReviewError(
            "own_request", "You requested this check, so you cannot review it."
        )
    if user.pk != review.reviewer_id:
        raise ReviewError("not_found", "Nothing exists at this address for you.")
    if review.state != ReviewState.OPEN:
        raise ReviewError("signed_off", "This review is already signed off.")


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("reason_required", "Give a reason for the decision.")
    if len(reason) > MAX_REASON_CHARS:
        raise ReviewError(
            "reason_too_long",
            f"The reason is longer than {MAX_REASON_CHARS} characters.",
        )
    return reason


def decide(
    review: Review, user: User, index: int, decision: str, reason: str
) -> FindingDecision:
    """Accept (the finding stands: fail) or override (dismissed: pass) the
    finding at ``index``, with a reason. Deciding again replaces the earlier
    decision until sign-off; the audit log keeps both."""
    _check_reviewer(review, user)
    reason = _clean_reason(reason)
    if decision not in Decision.values:
        raise ReviewError(
            "invalid_decision", "The decision must be 'accept' or 'override'."
        )
    findings = _result(review)["findings"]
    if not 0 <= index < len(findings):
        raise ReviewError(
            "not_found", f"The verdict has no finding {index}; it has {len(findings)}."
        )
    status = "fail" if decision == Decision.ACCEPT else "pass"
    with transaction.atomic():
        row, _ = FindingDecision.objects.update_or_create(
            review=review,
            index=index,
            defaults={
                "rule_id": findings[index]["rule_id"],
                "decision": decision,
                "status": status,
                "reason_sealed": _seal(review, f"finding:{index}", reason),
                "decided_by": user,
                "decided_at": timezone.now(),
            },
        )
        record(
            "compliance.finding_decided",
            actor=user,
            object_type="compliance.review",
            object_id=review.pk,
            details={
                "index": index,
                "rule_id": row.rule_id,
                "decision": decision,
                "machine_status": findings[index]["status"],
            },
        )
    return row


def sign_off(review: Review, user: User, verdict: str, reason: str) -> Review:
    """Close the review with the reviewer's final verdict and reason. Every
    finding needs a decision first, and a verdict of pass is rejected while
    any finding is accepted."""
    _check_reviewer(review, user)
    reason = _clean_reason(reason)
    if verdict not in FINAL_VERDICTS:
        raise ReviewError("invalid_verdict", "The final verdict must be pass or fail.")
    findings = _result(review)["findings"]
    decided = {row.index: row for row in review.decisions.all()}
    missing = [index for index in range(len(findings)) if index not in decided]
    if missing:
        raise ReviewError(
            "undecided_findings",
            "Accept or override every finding before signing off; undecided: "
            + ", ".join(map(str, missing))
            + ".",
        )
    if verdict == "pass" and any(row.status == "fail" for row in decided.values()):
        raise ReviewError(
            "inconsistent_verdict",
            "A verdict of pass needs every finding overridden; accepted findings "
            "make it a fail.",
        )
    with transaction.atomic():
        updated = Review.objects.filter(pk=review.pk, state=ReviewState.OPEN).update(
            state=ReviewState.SIGNED_OFF,
            final_verdict=verdict,
            signed_off_at=timezone.now(),
            sign_off_reason_sealed=_seal(review, "sign_off", reason),
        )
        if not updated:
            raise ReviewError("signed_off", "This review is already signed off.")
        review.refresh_from_db()
        record(
            "compliance.review_signed_off",
            actor=user,
            object_type="compliance.review",
            object_id=review.pk,
            details={
                "job": str(review.job_id),
                "machine_verdict": review.machine_verdict,
                "final_verdict": verdict,
                "overrides": sum(
                    row.decision == Decision.OVERRIDE for row in decided.values()
                ),
            },
        )
    return review


def record_of(review: Review) -> dict[str, Any]:
    """The review as a record: who, when, why, overrides and versions."""
    version = review.rulebook_version
    decisions = [
        {
            "index": row.index,
            "rule_id": row.rule_id,
            "decision": row.decision,
            "status": row.status,
            "reason": _unseal(review, f"finding:{row.index}", row.reason_sealed),
            "decided_by": row.decided_by.get_username(),
            "decided_at": row.decided_at.isoformat(),
        }
        for row in review.decisions.select_related("decided_by").order_by("index")
    ]
    return {
        "review_id": str(review.pk),
        "job_id": str(review.job_id),
        "state": review.state,
        "requester": review.requester.get_username(),
        "reviewer": review.reviewer.get_username() if review.reviewer else None,
        "machine_verdict": review.machine_verdict,
        "final_verdict": review.final_verdict or None,
        "suggest_escalation": review.suggest_escalation,
        "created_at": review.created_at.isoformat(),
        "assigned_at": review.assigned_at.isoformat() if review.assigned_at else None,
        "signed_off_at": (
            review.signed_off_at.isoformat() if review.signed_off_at else None
        ),
        "sign_off_reason": _unseal(review, "sign_off", review.sign_off_reason_sealed)
        or None,
        "rulebook": {
            "id": version.rulebook.slug,
            "version": str(version.number),
            "content_hash": version.content_hash,
        },
        "model": {
            "engine": review.engine,
            "model": review.model,
            "model_version": review.model_version,
            "prompt_hash": review.prompt_hash,
            "schema_hash": review.schema_hash,
        },
        "decisions": decisions,
    }


def detail(review: Review) -> dict[str, Any]:
    """What a reviewer works from: the original text, the findings with
    their offsets into it, and the record so far."""
    result = _result(review)
    return {
        "id": str(review.pk),
        "job_id": str(review.job_id),
        "text": payloads.read_input(review.job)["text"],
        "verdict": result["verdict"],
        "findings": result["findings"],
        "record": record_of(review),
    }


@dataclass(frozen=True)
class Reproduction:
    matches: bool
    differences: list[str]


def reproduce(review: Review) -> Reproduction:
    """Recompute the deterministic part of the verdict from the record (the
    sealed input, the recorded rulebook version, the job's options) and
    compare it with the stored verdict: every pattern finding, and the
    prompt and schema hashes. The model's part is not recomputed, because
    engine output is not guaranteed to repeat across builds and hardware."""
    job = review.job
    version = review.rulebook_version
    rulebook = store.load(version.rulebook.slug, version.number).applicable(job.options)
    text = payloads.read_input(job)["text"]
    result = _result(review)

    recomputed = sorted(
        (hit.rule_id, hit.strength, hit.start, hit.end)
        for rule in rulebook.rules
        for hit in match_rule(rule, text)
    )
    stored = sorted(
        (f["rule_id"], f.get("strength"), f["start"], f["end"])
        for f in result["findings"]
        if f["source"] == "pattern"
    )
    differences = []
    if recomputed != stored:
        differences.append("pattern findings differ")
    if version.content_hash != result["rulebook"].get("content_hash"):
        differences.append("rulebook content hash differs")
    if prompts.prompt_hash(rulebook) != review.prompt_hash:
        differences.append("prompt hash differs")
    if prompts.schema_hash(rulebook) != review.schema_hash:
        differences.append("schema hash differs")
    return Reproduction(matches=not differences, differences=differences)
