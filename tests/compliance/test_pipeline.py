"""The compliance pipeline in this process: fail closed, and a verdict from
the real model through the same code the workers run."""

from __future__ import annotations

import jsonschema
import pytest

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.compliance.schema import VERDICT_SCHEMA
from appliance.compliance.services import process_job, result_for
from appliance.jobs import execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload
from appliance.privacy import engines
from tests.conftest import use_engine
from tests.support.engine_proxy import EngineProxy

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Ask Jane Roe (jane.roe@example.com) about our risk-free 12% fund."


def run(owner, text: str = TEXT) -> Job:
    job = jobs.submit(owner, Workload.COMPLIANCE_CHECK, text=text, enqueue=False)
    execution.execute(str(job.id), process_job)
    return Job.objects.get(id=job.id)


@pytest.fixture
def recording_engine(engine, settings):
    original = settings.ENGINE_DEFAULT
    with EngineProxy(engine.url) as proxy:
        use_engine(proxy.url)
        yield proxy
    use_engine(original["url"], original["model"], original["kind"])


def test_analyzer_failure_sends_nothing(make_user, recording_engine, monkeypatch):
    def broken(texts: list[str]):
        raise MemoryError("spaCy ran out of memory")

    engines.reset()
    monkeypatch.setattr(engines.get_analyzer(), "analyze_batch", broken)
    job = run(make_user(Role.STAFF))

    assert (job.state, job.reason) == ("failed", "redaction_failed")
    assert recording_engine.requests == []
    assert not AuditEvent.objects.filter(action="model.called").exists()
    assert job.redacted_sealed is None


def test_verdict_from_real_model(make_user, recording_engine):
    owner = make_user(Role.STAFF)
    job = run(owner)

    assert job.state == "succeeded", job.reason
    verdict = result_for(job, owner)
    assert verdict is not None
    jsonschema.validate(verdict, VERDICT_SCHEMA)
    assert verdict["verdict"] == "fail"
    guarantee = [f for f in verdict["findings"] if f["rule_id"] == "FIN-001"]
    assert guarantee
    assert guarantee[0]["evidence"].lower() == "risk-free"
    assert verdict["redaction"]["entities"] == {"PERSON": 1, "EMAIL_ADDRESS": 1}


def test_model_sees_tokens_not_names(make_user, recording_engine):
    run(make_user(Role.STAFF))
    bodies = recording_engine.bodies()
    assert len(bodies) == 1
    prompt = bodies[0]["messages"][1]["content"]
    assert "Jane" not in prompt
    assert "jane.roe@example.com" not in prompt
    assert "<PERSON_1>" in prompt
    assert "<EMAIL_ADDRESS_1>" in prompt


def test_result_hidden_from_other_user(make_user, recording_engine):
    owner = make_user(Role.STAFF)
    job = run(owner)
    assert result_for(job, make_user(Role.STAFF)) is None


def test_residual_identifier_blocks_call(make_user, recording_engine, monkeypatch):
    # Simulate a redaction bug that lets an e-mail address through: the last
    # scan over the request bytes must still stop the call.
    engines.reset()
    monkeypatch.setattr(
        engines.get_analyzer(), "analyze_batch", lambda texts: [[] for _ in texts]
    )
    job = run(make_user(Role.STAFF))
    assert (job.state, job.reason) == ("failed", "payload_blocked")
    assert recording_engine.requests == []
