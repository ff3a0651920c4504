"""Fixtures for the escalation tests: a capturing stand-in for the external
provider on loopback, the providers file that points at it, and finished
compliance jobs whose redacted text comes from the real redaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.accounts.models import Team, User
from appliance.accounts.roles import Role
from appliance.accounts.services import assign_role
from appliance.compliance.services import scope_for
from appliance.escalation import providers
from appliance.jobs import payloads
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, State, Workload
from appliance.privacy.redaction import redact
from tests.support.provider import FakeProvider

PROVIDER = "frontier"
MODEL = "frontier-large"
TEXT = (
    "Dear Jane Roe, our Atlas fund returns 12% a year and your capital is "
    "never at risk. Call Mark Doe to invest before Friday."
)
FINDINGS = [
    {
        "rule_id": "FIN-001",
        "title": "Guaranteed or risk-free returns",
        "severity": "high",
        "status": "needs_review",
        "source": "pattern",
        "start": 40,
        "end": 58,
        "evidence": "returns 12% a year",
        "explanation": "A pattern for this rule matched.",
        "confidence": 0.55,
    }
]


def write_providers(path: Path, url: str, **extra: Any) -> Path:
    spec = {
        "url": url,
        "timeout": 10,
        "max_tokens": 256,
        "models": {MODEL: {"input_per_million": 5.0, "output_per_million": 15.0}},
        **extra,
    }
    path.write_text(yaml.safe_dump({"providers": {PROVIDER: spec}}))
    return path


@pytest.fixture
def provider(tmp_path: Path, settings: Any) -> Iterator[FakeProvider]:
    """The external provider: a capturing server on a free loopback port,
    configured and allow-listed."""
    with FakeProvider() as server:
        key_file = tmp_path / "frontier.key"
        key_file.write_text("sk-test-frontier\n")
        settings.ESCALATION_PROVIDERS_FILE = str(
            write_providers(
                tmp_path / "providers.yaml", server.url, api_key_file=str(key_file)
            )
        )
        settings.ESCALATION_ALLOWED_HOSTS = ["127.0.0.1"]
        providers.reset()
        yield server
    providers.reset()


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    """A requester on a team, two approvers, a bystander and an admin."""
    team = Team.objects.create(name="Compliance")
    requester = make_user(Role.REVIEWER, "rita")
    requester.team = team
    requester.save()
    assign_role(requester, Role.STAFF)
    return {
        "requester": requester,
        "approver": make_user(Role.APPROVER, "alex"),
        "approver2": make_user(Role.APPROVER, "blair"),
        "bystander": make_user(Role.STAFF, "sam"),
        "admin": make_user(Role.ADMIN, "ada"),
    }


def finished_job(
    owner: User,
    text: str = TEXT,
    *,
    verdict: str = "needs_review",
    findings: list[dict[str, Any]] | None = None,
    reviewer: User | None = None,
) -> Job:
    """A compliance job that succeeded: its input redacted by the real
    redaction in the job's scope, and a stored verdict."""
    job = jobs.submit(owner, Workload.COMPLIANCE_CHECK, text=text, enqueue=False)
    redaction = redact(text, scope_id=scope_for(job.id), owner_id=owner.pk)
    job.redacted_sealed = payloads.seal(job.id, payloads.REDACTED, redaction.to_dict())
    result = {
        "verdict": verdict,
        "findings": FINDINGS if findings is None else findings,
    }
    job.result_sealed = payloads.seal(job.id, payloads.RESULT, result)
    job.state = State.SUCCEEDED
    job.reviewer = reviewer
    job.save()
    return job
