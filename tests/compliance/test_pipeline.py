"""The compliance pipeline in this process: fail closed, and a verdict from
the real model through the same code the workers run."""

from __future__ import annotations

import jsonschema
import pytest

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.compliance import store
from appliance.compliance.models import Review, Rule
from appliance.compliance.reviews import reproduce
from appliance.compliance.schema import VERDICT_SCHEMA
from appliance.compliance.services import process_job, result_for
from appliance.jobs import execution, payloads
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload
from appliance.privacy import engines
from tests.conftest import use_engine
from tests.support.engine_proxy import EngineProxy

pytestmark = pytest.mark.django_db(transaction=True)

# "risk-free" is a strong pattern hit; "deposit insurance" only a weak one,
# which the model is asked to confirm.
TEXT = (
    "Ask Jane Roe (jane.roe@example.com) about our risk-free 12% fund and "
    "how deposit insurance works."
)


def run(owner, text: str = TEXT, **options: str) -> Job:
    job = jobs.submit(
        owner, Workload.COMPLIANCE_CHECK, text=text, options=options, enqueue=False
    )
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
    assert guarantee[0]["rulebook_version"] == verdict["rulebook"]["version"]
    assert verdict["redaction"]["entities"] == {"PERSON": 1, "EMAIL_ADDRESS": 1}
    assert verdict["model"]["rules_asked"] == ["FIN-005"]
    insurance = [f for f in verdict["findings"] if f["rule_id"] == "FIN-005"]
    assert insurance[0]["strength"] == "weak"
    assert insurance[0]["status"] in ("fail", "needs_review")
    # The engine's token probability, not a figure the model wrote.
    assert 0 <= insurance[0]["confidence"] <= 1
    assert verdict["model"]["engine_model"]
    assert len(verdict["model"]["prompt_hash"]) == 64


def test_model_sees_tokens_not_names(make_user, recording_engine):
    run(make_user(Role.STAFF))
    bodies = recording_engine.bodies()
    assert len(bodies) == 1
    prompt = bodies[0]["messages"][1]["content"]
    assert "Jane" not in prompt
    assert "jane.roe@example.com" not in prompt
    assert "<PERSON_1>" in prompt
    assert "<EMAIL_ADDRESS_1>" in prompt
    assert bodies[0]["logprobs"] is True
    asked = bodies[0]["response_format"]["schema"]["properties"]
    assert list(asked) == ["FIN-005"]


def test_screening_asks_rules_without_hits(make_user, recording_engine, settings):
    settings.COMPLIANCE_MODEL_SCREENING = True
    job = run(
        make_user(Role.STAFF), "Account number 004512378891.", rulebook="data-handling"
    )
    assert job.state == "succeeded", job.reason
    asked = recording_engine.bodies()[0]["response_format"]["schema"]["properties"]
    # DATA-001 has a strong hit, so the model is asked about the other rules.
    assert sorted(asked) == ["DATA-002", "DATA-003"]


def test_strong_hits_skip_the_model(make_user, recording_engine):
    job = run(make_user(Role.STAFF), "Our advice is conflict-free.")
    assert job.state == "succeeded", job.reason
    assert recording_engine.requests == []
    verdict = result_for(job, job.owner)
    assert verdict is not None
    assert verdict["verdict"] == "fail"
    assert verdict["model"]["calls"] == 0


def test_fail_opens_review_for_reviewer(make_user, recording_engine):
    reviewer = make_user(Role.REVIEWER)
    job = run(make_user(Role.STAFF), "Our advice is conflict-free.")
    review = Review.objects.get(job=job)
    assert review.reviewer == reviewer
    assert review.machine_verdict == "fail"
    assert Job.objects.get(id=job.id).reviewer == reviewer
    assert result_for(job, reviewer) is not None


def test_pass_opens_no_review(make_user, recording_engine):
    job = run(make_user(Role.STAFF), "Our branch opens at nine on weekdays.")
    verdict = result_for(job, job.owner)
    assert verdict is not None
    assert verdict["verdict"] == "pass"
    assert not Review.objects.filter(job=job).exists()


def test_reproduction_detects_altered_verdict(make_user, recording_engine):
    make_user(Role.REVIEWER)
    job = run(make_user(Role.STAFF), "Our advice is conflict-free.")
    review = Review.objects.get(job=job)
    assert reproduce(review).matches

    # A later version of the rulebook does not change what the record recomputes.
    rule = Rule.objects.get(version=review.rulebook_version, rule_id="FIN-008")
    store.revise_rule(rule, store.rule_data(rule) | {"strong": []}, None)
    assert reproduce(review).matches

    result = payloads.read_result(job)
    assert result is not None
    result["findings"][0]["start"] += 1
    Job.objects.filter(id=job.id).update(
        result_sealed=payloads.seal(job.id, payloads.RESULT, result)
    )
    review.refresh_from_db()
    outcome = reproduce(review)
    assert not outcome.matches
    assert outcome.differences == ["pattern findings differ"]


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
