"""Escalation requests: creating one when a person asks, approving or
rejecting it, and reading its body and answer.

Nothing here sends anything: once the last approval is recorded, the
``escalation.send`` task is published with the request id, and the egress
module decides again, from the database, whether the bytes may leave.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from appliance.accounts.models import User
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.escalation import (
    budget,
    policy,
    prompts,
    providers,
    sealing,
    sources,
    versions,
)
from appliance.escalation.errors import (
    BodyMismatch,
    Expired,
    InvalidState,
    NotAllowed,
    ProviderNotConfigured,
    SecondFactorRequired,
)
from appliance.escalation.models import Approval, EscalationRequest, State
from appliance.jobs.models import Job
from appliance.privacy import residual
from appliance.privacy.redaction import redact, reidentify

logger = logging.getLogger(__name__)

SEND_TASK = "escalation.send"
MAX_QUESTION_CHARS = 4000


@dataclass(frozen=True)
class Proposal:
    """What a person asks for: a job, a destination and an optional question."""

    job: Job
    provider: str
    model: str
    question: str = ""
    classification: str | None = None


def _is_person(user: User) -> bool:
    return user.is_authenticated and user.is_active and not user.is_service_account


def create(user: User, proposal: Proposal) -> EscalationRequest:
    """Build the exact outbound request for ``proposal`` and record it, with
    the policy's decision: pending approval when allowed, denied otherwise."""
    job = proposal.job
    if not _is_person(user) or not user.has_perm("escalation.request_escalation"):
        raise NotAllowed("Your role may not request escalations.")
    if user.pk not in (job.owner_id, job.reviewer_id):
        raise NotAllowed("Only the job's owner or its reviewer may escalate it.")
    if len(proposal.question) > MAX_QUESTION_CHARS:
        raise InvalidState(
            f"The question is longer than {MAX_QUESTION_CHARS} characters."
        )
    provider = providers.get(proposal.provider)
    if provider is None or proposal.model not in provider.models:
        raise ProviderNotConfigured(
            f"No provider {proposal.provider!r} with model {proposal.model!r} is "
            "configured (APPLIANCE_ESCALATION_PROVIDERS_FILE)."
        )

    source = sources.load(job)
    question = ""
    if proposal.question.strip():
        question = redact(
            proposal.question, scope_id=source.scope_id, owner_id=job.owner_id
        ).text
    body = prompts.serialize(
        prompts.build_body(
            source, question, model=proposal.model, max_tokens=provider.max_tokens
        )
    )
    prompt_tokens = providers.estimate_prompt_tokens(body)
    cost = provider.cost(proposal.model, prompt_tokens, provider.max_tokens)

    version = versions.current()
    classification = policy.classify(
        version.document, set(source.entity_types), proposal.classification
    )
    subject = policy.Subject(
        workload=source.workload,
        classification=classification,
        requester_roles=frozenset(user.role_names()),
        team=user.team.name if user.team else None,
        provider=proposal.provider,
        model=proposal.model,
        estimated_cost=cost,
        team_spend=budget.team_spend(user.team_id),
        residual_entities=_residual_counts(body),
        verdict=source.verdict,
        lowest_confidence=source.lowest_confidence,
    )
    decision = policy.evaluate(version.document, subject)

    request = EscalationRequest(
        job=job,
        workload=source.workload,
        classification=classification,
        requester=user,
        team=user.team,
        scope_id=source.scope_id,
        provider=proposal.provider,
        model=proposal.model,
        body_sha256=hashlib.sha256(body).hexdigest(),
        body_bytes=len(body),
        estimated_prompt_tokens=prompt_tokens,
        estimated_completion_tokens=provider.max_tokens,
        estimated_cost=cost,
        policy_version=version.version,
        evaluation=decision.to_dict(),
        approvals_required=decision.approvals_required,
        state=State.PENDING if decision.allowed else State.DENIED,
        expires_at=timezone.now() + timedelta(seconds=settings.ESCALATION_REQUEST_TTL),
    )
    request.body_sealed = sealing.seal(request.id, sealing.BODY, body)
    with transaction.atomic():
        request.save()
        record(
            "escalation.requested",
            actor=user,
            object_type="escalation",
            object_id=request.id,
            outcome=Outcome.SUCCESS if decision.allowed else Outcome.DENIED,
            details={
                "job": str(job.id),
                "classification": classification,
                "provider": request.provider,
                "model": request.model,
                "body_sha256": request.body_sha256,
                "body_bytes": request.body_bytes,
                "estimated_cost": str(cost),
                "policy_version": version.version,
                "allowed": decision.allowed,
                "failed_checks": [check.code for check in decision.reasons],
            },
        )
    return request


def _residual_counts(body: bytes) -> dict[str, int]:
    """Identifier counts in the body. A scan that fails counts as a finding,
    so the policy denies the request rather than vouching for it."""
    try:
        return dict(residual.scan_payload(body))
    except Exception as exc:
        logger.error("residual scan raised %s; request denied", type(exc).__name__)
        return {"SCAN_FAILED": 1}


def visible_to(user: User) -> QuerySet[EscalationRequest]:
    """Requests ``user`` may see: their own, and, for approvers, every
    request waiting for or past a decision. Bodies are redacted, so an
    approver sees pseudonyms only."""
    if not _is_person(user):
        return EscalationRequest.objects.none()
    if user.has_perm("escalation.approve_escalation"):
        return EscalationRequest.objects.exclude(
            Q(state=State.DENIED) & ~Q(requester=user)
        )
    return EscalationRequest.objects.filter(requester=user)


def body_of(request: EscalationRequest) -> bytes:
    return sealing.unseal(request.id, sealing.BODY, request.body_sealed)


def read_body(request: EscalationRequest, user: User) -> bytes:
    """Return the exact outbound bytes to someone who may see the request,
    and record that they were shown."""
    if not visible_to(user).filter(id=request.id).exists():
        raise NotAllowed("You may not see this request.")
    body = body_of(request)
    record(
        "escalation.body_viewed",
        actor=user,
        object_type="escalation",
        object_id=request.id,
        details={"body_sha256": request.body_sha256},
    )
    return body


def expire_if_due(request: EscalationRequest) -> bool:
    """Mark a pending or approved request expired once its time is up."""
    if request.state not in (State.PENDING, State.APPROVED):
        return False
    if request.expires_at > timezone.now():
        return False
    updated = EscalationRequest.objects.filter(
        id=request.id, state__in=(State.PENDING, State.APPROVED)
    ).update(state=State.EXPIRED, reason="expired", updated_at=timezone.now())
    if updated:
        request.state = State.EXPIRED
        record(
            "escalation.expired",
            object_type="escalation",
            object_id=request.id,
            outcome=Outcome.FAILURE,
            durable=True,
        )
    return True


def approve(
    request: EscalationRequest,
    approver: User,
    *,
    body_sha256: str,
    reason: str,
    otp: str | None = None,
) -> EscalationRequest:
    """Record ``approver``'s approval of the body with ``body_sha256``. The
    last approval the policy requires moves the request to approved and
    publishes the send task."""
    return _decide(
        request, approver, Approval.Decision.APPROVE, body_sha256, reason, otp
    )


def reject(
    request: EscalationRequest,
    approver: User,
    *,
    body_sha256: str,
    reason: str,
    otp: str | None = None,
) -> EscalationRequest:
    """Record a rejection; one rejection ends the request."""
    return _decide(
        request, approver, Approval.Decision.REJECT, body_sha256, reason, otp
    )


def _check_approver(request: EscalationRequest, approver: User) -> None:
    if not _is_person(approver) or not approver.has_perm(
        "escalation.approve_escalation"
    ):
        raise NotAllowed("Only approvers may decide on escalations.")
    if approver.pk == request.requester_id:
        raise NotAllowed("Approvers may not decide on their own requests.")


def _decide(
    request: EscalationRequest,
    approver: User,
    decision: str,
    body_sha256: str,
    reason: str,
    otp: str | None,
) -> EscalationRequest:
    _check_approver(request, approver)
    if not reason.strip():
        raise InvalidState("Give a reason for the decision.")
    second_factor = _verify_second_factor(approver, otp)
    if expire_if_due(request):
        raise Expired()

    with transaction.atomic():
        locked = EscalationRequest.objects.select_for_update().get(id=request.id)
        if locked.state != State.PENDING:
            raise InvalidState(f"The request is {locked.state}, not pending.")
        body = body_of(locked)
        actual = hashlib.sha256(body).hexdigest()
        if body_sha256 != locked.body_sha256 or actual != locked.body_sha256:
            _audit_decision(
                locked, approver, "escalation.approval_refused", body_sha256
            )
            raise BodyMismatch()
        if locked.approvals.filter(approver=approver).exists():
            raise InvalidState("You have already decided on this request.")

        Approval.objects.create(
            request=locked,
            approver=approver,
            decision=decision,
            body_sha256=body_sha256,
            reason_sealed=sealing.seal(
                locked.id, sealing.approval_field(approver.pk), reason.encode()
            ),
            second_factor=second_factor,
        )
        if decision == Approval.Decision.REJECT:
            locked.state = State.REJECTED
            action = "escalation.rejected"
        else:
            count = locked.approvals.filter(decision=Approval.Decision.APPROVE).count()
            action = "escalation.approved"
            if count >= locked.approvals_required:
                locked.state = State.APPROVED
                request_id = str(locked.id)
                transaction.on_commit(lambda: publish_send(request_id))
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "updated_at"])
        _audit_decision(locked, approver, action, body_sha256)
    return locked


def _audit_decision(
    request: EscalationRequest, approver: User, action: str, body_sha256: str
) -> None:
    refused = action == "escalation.approval_refused"
    record(
        action,
        actor=approver,
        object_type="escalation",
        object_id=request.id,
        outcome=Outcome.DENIED if refused else Outcome.SUCCESS,
        details={
            "body_sha256": body_sha256[:64],
            "state": request.state,
            "approvals": request.approvals.filter(
                decision=Approval.Decision.APPROVE
            ).count(),
            "approvals_required": request.approvals_required,
        },
        durable=refused,
    )


def _verify_second_factor(approver: User, otp: str | None) -> bool:
    """Check the approver's TOTP when APPLIANCE_ESCALATION_APPROVER_OTP is on."""
    if not settings.ESCALATION_APPROVER_OTP:
        return False
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if otp:
        for device in TOTPDevice.objects.filter(user=approver, confirmed=True):
            if device.verify_token(otp):
                return True
    record(
        "escalation.second_factor_failed",
        actor=approver,
        outcome=Outcome.DENIED,
        durable=True,
    )
    raise SecondFactorRequired()


def publish_send(request_id: str) -> bool:
    """Publish the send task. A failed publish leaves the request approved;
    ``manage.py escalations send-approved`` publishes it again."""
    try:
        current_app.send_task(SEND_TASK, args=[request_id])
    except Exception as exc:  # any broker or network failure
        logger.warning(
            "publishing escalation %s failed (%s)", request_id, type(exc).__name__
        )
        return False
    return True


def accept(request: EscalationRequest, user: User) -> EscalationRequest:
    """Mark the answer accepted by its requester, which makes the exchange a
    distillation example."""
    if user.pk != request.requester_id:
        raise NotAllowed("Only the requester may accept the answer.")
    if request.state != State.SENT:
        raise InvalidState(f"The request is {request.state}; it has no answer yet.")
    if request.answer_accepted_at is None:
        request.answer_accepted_at = timezone.now()
        request.save(update_fields=["answer_accepted_at"])
        record(
            "escalation.answer_accepted",
            actor=user,
            object_type="escalation",
            object_id=request.id,
        )
    return request


def redacted_answer(request: EscalationRequest) -> str | None:
    if request.answer_sealed is None:
        return None
    return sealing.unseal(request.id, sealing.ANSWER, request.answer_sealed).decode()


def answer_for(request: EscalationRequest, user: User) -> str | None:
    """Return the answer to its requester only, with the original values put
    back when the requester owns the job's vault scope (a reviewer who
    asked sees pseudonyms). Anyone else gets None."""
    if user.pk != request.requester_id:
        return None
    answer = redacted_answer(request)
    if answer is None:
        return None
    if request.job.owner_id != user.pk:
        return answer
    return reidentify(answer, scope_id=request.scope_id, requester=user)
