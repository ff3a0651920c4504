"""The distillation dataset: approved escalations whose answer the requester
accepted, as redacted chat examples for training the small models.

Each example is the exact messages that were sent, followed by the
provider's answer as it arrived (with tokens, never re-identified). An
answer in which the residual scan finds an identifier is left out, because
a provider may write a value it was never given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.escalation.errors import NotAllowed
from appliance.escalation.models import EscalationRequest, State
from appliance.escalation.services import body_of, redacted_answer
from appliance.privacy import residual
from appliance.privacy.errors import PayloadBlocked

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportReport:
    workload: str
    examples: int
    skipped: int


def accepted(workload: str) -> Iterator[EscalationRequest]:
    yield from EscalationRequest.objects.filter(
        workload=workload, state=State.SENT, answer_accepted_at__isnull=False
    ).order_by("sent_at")


def example(request: EscalationRequest) -> dict[str, Any] | None:
    """Return the chat-format example, or None when the answer is unusable."""
    answer = redacted_answer(request)
    if not answer:
        return None
    try:
        residual.ensure_clean(json.dumps([answer]).encode())
    except PayloadBlocked:
        return None
    body = json.loads(body_of(request))
    return {
        "messages": [*body["messages"], {"role": "assistant", "content": answer}],
        "metadata": {
            "escalation_id": str(request.id),
            "workload": request.workload,
            "provider": request.provider,
            "model": request.model,
            "policy_version": request.policy_version,
        },
    }


def export(user: User, workload: str, output: IO[str]) -> ExportReport:
    """Write the workload's examples to ``output`` as JSON Lines."""
    if not user.is_active or not user.has_perm("escalation.export_distillation"):
        raise NotAllowed("Only administrators may export the distillation dataset.")
    count = skipped = 0
    for request in accepted(workload):
        item = example(request)
        if item is None:
            skipped += 1
            continue
        output.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    record(
        "escalation.distillation_exported",
        actor=user,
        object_type="escalation_dataset",
        object_id=workload,
        details={"workload": workload, "examples": count, "skipped": skipped},
    )
    logger.info("exported %d distillation examples (%d skipped)", count, skipped)
    return ExportReport(workload=workload, examples=count, skipped=skipped)
