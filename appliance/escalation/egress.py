"""The one module that sends prompt content outside the building.

``send`` takes a request id and decides again, from the database, whether
the request may leave. It needs the approvals the policy required, each by
an approver other than the requester and for the SHA-256 of the body that
is sent. The request must not have expired, and the body must pass the
residual scan (fail closed). The provider's host must be in
APPLIANCE_ESCALATION_ALLOWED_HOSTS, and the team's budget must cover the
estimate. Only then are the stored bytes posted, unchanged, with httpx.
Redirects are never followed, so a provider cannot forward the body.

The answer is stored sealed as it arrived (pseudonymized); it is re-identified
for the requester when they read it (``services.answer_for``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pydantic
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from openai.types.chat import ChatCompletion

from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.escalation import budget, providers, sealing
from appliance.escalation.models import (
    Approval,
    BlockReason,
    EscalationRequest,
    State,
)
from appliance.escalation.services import body_of
from appliance.privacy import residual
from appliance.privacy.errors import PayloadBlocked

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


class Blocked(Exception):
    def __init__(self, reason: BlockReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class SendOutcome:
    state: str
    reason: str = ""


def send(request_id: str) -> SendOutcome:
    """Send an approved request once; a request in any other state is left
    as it is, so a second delivery of the task sends nothing."""
    try:
        request, body, provider = _claim(request_id)
    except Blocked as exc:
        return _block(request_id, exc.reason)
    except _NotSendable as exc:
        return SendOutcome(state=exc.state)

    try:
        data = _post(provider, body)
        answer, prompt_tokens, completion_tokens = _parse(data)
    except Blocked as exc:
        return _fail(request, exc.reason)
    return _store(request, provider, answer, prompt_tokens, completion_tokens)


class _NotSendable(Exception):
    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


def _claim(
    request_id: str,
) -> tuple[EscalationRequest, bytes, providers.Provider]:
    """Check everything and move the request to sending, in one transaction
    that holds the team's budget lock."""
    with transaction.atomic():
        request = (
            EscalationRequest.objects.select_for_update().filter(id=request_id).first()
        )
        if request is None:
            raise _NotSendable("missing")
        if request.state != State.APPROVED:
            if request.state in (State.PENDING, State.DENIED):
                raise Blocked(BlockReason.NOT_APPROVED)
            raise _NotSendable(request.state)
        if request.expires_at <= timezone.now():
            raise Blocked(BlockReason.EXPIRED)
        body = body_of(request)
        digest = hashlib.sha256(body).hexdigest()
        if digest != request.body_sha256:
            raise Blocked(BlockReason.BODY_CHANGED)
        _check_approvals(request, digest)
        try:
            residual.ensure_clean(body)
        except PayloadBlocked:
            raise Blocked(BlockReason.PAYLOAD_BLOCKED) from None
        provider = providers.get(request.provider)
        if provider is None or request.model not in provider.models:
            raise Blocked(BlockReason.PROVIDER_NOT_CONFIGURED)
        if not host_allowed(provider.url):
            raise Blocked(BlockReason.HOST_NOT_ALLOWED)
        _check_budget(request)

        request.state = State.SENDING
        request.updated_at = timezone.now()
        request.save(update_fields=["state", "updated_at"])
    return request, body, provider


def _check_approvals(request: EscalationRequest, digest: str) -> None:
    """At least the required number of distinct approvers, none of them the
    requester, none rejecting, all for these exact bytes."""
    decisions = list(request.approvals.select_related("approver"))
    if any(d.decision == Approval.Decision.REJECT for d in decisions):
        raise Blocked(BlockReason.NOT_APPROVED)
    approvers = set()
    for decision in decisions:
        if decision.body_sha256 != digest:
            raise Blocked(BlockReason.BODY_CHANGED)
        approver = decision.approver
        if (
            approver.pk != request.requester_id
            and approver.is_active
            and not approver.is_service_account
            and approver.has_perm("escalation.approve_escalation")
        ):
            approvers.add(approver.pk)
    if len(approvers) < max(request.approvals_required, 1):
        raise Blocked(BlockReason.NOT_APPROVED)


def _check_budget(request: EscalationRequest) -> None:
    budget.lock_team(request.team_id)
    limit = Decimal(str(request.evaluation.get("budget", "0")))
    spent = budget.team_spend(request.team_id, exclude=request.id)
    if spent + request.estimated_cost > limit:
        raise Blocked(BlockReason.BUDGET_EXCEEDED)


def host_allowed(url: str) -> bool:
    """True if ``url``'s host, or host and port, is in the allow-list. Plain
    HTTP is accepted for loopback addresses only (a gateway on this host);
    anything else needs HTTPS."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https"):
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = {entry.lower() for entry in settings.ESCALATION_ALLOWED_HOSTS}
    if host not in allowed and f"{host}:{port}" not in allowed:
        return False
    if parts.scheme == "https":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _post(provider: providers.Provider, body: bytes) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if provider.api_key:
        headers["Authorization"] = f"Bearer {provider.api_key}"
    timeout = httpx.Timeout(provider.timeout, connect=CONNECT_TIMEOUT)
    attempts = settings.ESCALATION_SEND_ATTEMPTS
    last_error = "no attempt"
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as h:
        for attempt in range(1, attempts + 1):
            try:
                response = h.post(
                    f"{provider.url}/chat/completions", content=body, headers=headers
                )
            except httpx.TimeoutException:
                last_error = "timed out"
            except httpx.TransportError as exc:
                last_error = type(exc).__name__
            else:
                if response.status_code < 300:
                    try:
                        data: dict[str, Any] = response.json()
                    except ValueError:
                        raise Blocked(BlockReason.PROVIDER_OUTPUT_INVALID) from None
                    return data
                if response.status_code not in TRANSIENT_STATUS:
                    logger.warning(
                        "provider %s returned HTTP %d; not retried",
                        provider.name,
                        response.status_code,
                    )
                    raise Blocked(BlockReason.PROVIDER_REJECTED)
                last_error = f"HTTP {response.status_code}"
            logger.warning(
                "provider %s attempt %d/%d failed: %s",
                provider.name,
                attempt,
                attempts,
                last_error,
            )
            if attempt < attempts:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
    raise Blocked(BlockReason.PROVIDER_UNAVAILABLE)


def _parse(data: dict[str, Any]) -> tuple[str, int, int]:
    try:
        completion = ChatCompletion.model_validate(data)
    except pydantic.ValidationError:
        raise Blocked(BlockReason.PROVIDER_OUTPUT_INVALID) from None
    if not completion.choices:
        raise Blocked(BlockReason.PROVIDER_OUTPUT_INVALID)
    content = completion.choices[0].message.content or ""
    usage = completion.usage
    prompt_tokens = usage.prompt_tokens if usage else 0
    completion_tokens = usage.completion_tokens if usage else 0
    return content, prompt_tokens, completion_tokens


def _store(
    request: EscalationRequest,
    provider: providers.Provider,
    answer: str,
    prompt_tokens: int,
    completion_tokens: int,
) -> SendOutcome:
    request.answer_sealed = sealing.seal(request.id, sealing.ANSWER, answer.encode())
    request.prompt_tokens = prompt_tokens
    request.completion_tokens = completion_tokens
    request.cost = provider.cost(request.model, prompt_tokens, completion_tokens)
    request.state = State.SENT
    request.sent_at = request.updated_at = timezone.now()
    with transaction.atomic():
        request.save()
        record(
            "escalation.sent",
            object_type="escalation",
            object_id=request.id,
            details={
                "provider": request.provider,
                "model": request.model,
                "body_sha256": request.body_sha256,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "cost": str(request.cost),
            },
        )
    logger.info("escalation %s sent to %s", request.id, provider.name)
    return SendOutcome(state=State.SENT)


def _block(request_id: str, reason: BlockReason) -> SendOutcome:
    """Record why nothing was sent. An approved request ends blocked (or
    expired); a pending or denied one keeps its state."""
    state = State.EXPIRED if reason == BlockReason.EXPIRED else State.BLOCKED
    changed = (
        EscalationRequest.objects.filter(id=request_id, state=State.APPROVED).update(
            state=state, reason=reason.value, updated_at=timezone.now()
        )
        > 0
    )
    logger.warning("escalation %s not sent: %s", request_id, reason.value)
    record(
        "escalation.send_blocked",
        object_type="escalation",
        object_id=request_id,
        outcome=Outcome.DENIED,
        details={"reason": reason.value},
        durable=True,
    )
    current = EscalationRequest.objects.filter(id=request_id).first()
    return SendOutcome(
        state=state if changed or current is None else current.state,
        reason=reason.value,
    )


def _fail(request: EscalationRequest, reason: BlockReason) -> SendOutcome:
    EscalationRequest.objects.filter(id=request.id, state=State.SENDING).update(
        state=State.FAILED, reason=reason.value, updated_at=timezone.now()
    )
    logger.warning("escalation %s failed: %s", request.id, reason.value)
    record(
        "escalation.send_failed",
        object_type="escalation",
        object_id=request.id,
        outcome=Outcome.FAILURE,
        details={"reason": reason.value, "provider": request.provider},
        durable=True,
    )
    return SendOutcome(state=State.FAILED, reason=reason.value)
