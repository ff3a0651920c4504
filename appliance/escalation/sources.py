"""What an escalation reads from a job: its id, its redacted text in its
privacy scope, and a summary of its result. This is the only module that
knows how a workload stores these, so a workload changing its storage
changes this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.compliance.services import scope_for
from appliance.escalation.errors import EscalationError
from appliance.jobs import payloads
from appliance.jobs.models import Job, State, Workload


class SourceUnavailable(EscalationError):
    """The job has no redacted text or result to escalate."""

    reason = "not_escalatable"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    status: str
    confidence: float | None


@dataclass(frozen=True)
class Source:
    job: Job
    workload: str
    scope_id: str
    redacted_text: str
    entity_types: frozenset[str]
    verdict: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def lowest_confidence(self) -> float | None:
        values = [f.confidence for f in self.findings if f.confidence is not None]
        return min(values) if values else None


def load(job: Job) -> Source:
    """Return the redacted text and result summary of a finished job."""
    if job.workload != Workload.COMPLIANCE_CHECK:
        raise SourceUnavailable(f"Workload {job.workload} cannot be escalated yet.")
    if job.state != State.SUCCEEDED:
        raise SourceUnavailable("Only a job that succeeded can be escalated.")
    redacted = payloads.read_redacted(job)
    result = payloads.read_result(job)
    if redacted is None or result is None:
        raise SourceUnavailable("The job has no redacted text or no result.")

    # Evidence spans quote the original text, so only ids, titles, statuses
    # and confidences are taken from the findings.
    findings = [
        Finding(
            rule_id=str(item.get("rule_id", "")),
            title=str(item.get("title", "")),
            status=str(item.get("status", "")),
            confidence=item.get("confidence"),
        )
        for item in result.get("findings", [])
    ]
    return Source(
        job=job,
        workload=job.workload,
        scope_id=scope_for(job.id),
        redacted_text=str(redacted["text"]),
        entity_types=frozenset(e["type"] for e in redacted.get("entities", [])),
        verdict=result.get("verdict"),
        findings=findings,
    )
