"""Redaction fails closed: when the analyzer fails or runs out of time, the
job fails with redaction_failed and the engine receives nothing."""

from __future__ import annotations

import pytest

from appliance.accounts.roles import Role
from appliance.compliance.services import process_job
from appliance.inference.models import ModelCall
from appliance.jobs import execution, services
from appliance.jobs.models import FINAL_STATES, Job, Workload
from appliance.privacy import engines
from appliance.privacy.models import RecognizerOverride
from tests.conftest import use_engine
from tests.support.engine_proxy import EngineProxy
from tests.support.polling import wait_until


@pytest.mark.django_db(transaction=True)
def test_analyzer_fault_sends_nothing(make_user, fresh_engines, monkeypatch, settings):
    owner = make_user(Role.STAFF)
    job = services.submit(
        owner,
        Workload.COMPLIANCE_CHECK,
        text="Maria Lopez guarantees 12% a year.",
        enqueue=False,
    )
    analyzer = engines.get_analyzer()

    def broken(texts):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(analyzer, "analyze_batch", broken)
    original = settings.ENGINE_DEFAULT
    with EngineProxy(None) as proxy:
        use_engine(proxy.url)
        try:
            execution.execute(str(job.id), process_job)
        finally:
            use_engine(original["url"], original["model"], original["kind"])

    job.refresh_from_db()
    assert job.state == "failed"
    assert job.reason == "redaction_failed"
    assert proxy.requests == []
    assert not ModelCall.objects.filter(subject_id=str(job.id)).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_regex_timeout_in_worker_sends_nothing(
    make_user, api_client_for, worker_factory, fresh_engines
):
    # Overlapping alternatives under a quantifier backtrack exponentially on
    # a run of "a" that ends in "b"; the worker's short timeout must fail the
    # job rather than skip the pattern.
    RecognizerOverride.objects.create(
        name="runaway",
        entity="EMPLOYEE_ID",
        patterns=[{"name": "runaway", "regex": "(a|aa)+c", "score": 0.9}],
    )
    owner = make_user(Role.STAFF)
    with EngineProxy(None) as proxy:
        worker_factory("fail-closed", proxy.url, APPLIANCE_PRIVACY_REGEX_TIMEOUT="0.05")
        response = api_client_for(owner).post(
            "/api/v1/compliance-checks",
            {"text": "Guaranteed returns for " + "a" * 40 + "b."},
            format="json",
        )
        job_id = response.json()["id"]
        job = wait_until(
            lambda: Job.objects.filter(id=job_id, state__in=FINAL_STATES).first(),
            timeout=120,
            what="the job to fail",
        )

    assert job.state == "failed"
    assert job.reason == "redaction_failed"
    assert proxy.requests == []
    assert not ModelCall.objects.filter(subject_id=job_id).exists()
