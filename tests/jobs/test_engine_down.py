"""An engine that is down: the job retries, fails with engine_unavailable,
and succeeds when its owner retries it with the engine back."""

from __future__ import annotations

import pytest

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.jobs.models import FINAL_STATES, Job
from tests.support.polling import wait_until
from tests.support.processes import free_port, start_engine


def final_job(job_id: str) -> Job | None:
    return Job.objects.filter(id=job_id, state__in=FINAL_STATES).first()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_engine_down_then_retried(make_user, api_client_for, worker_factory):
    port = free_port()
    worker_factory("engine-down", f"http://127.0.0.1:{port}/v1")
    owner = make_user(Role.STAFF)
    client = api_client_for(owner)

    response = client.post(
        "/api/v1/compliance-checks",
        # A weak pattern hit only, so the check needs the model.
        {"text": "Our fund is a safe investment."},
        format="json",
    )
    job_id = response.json()["id"]
    job = wait_until(lambda: final_job(job_id), timeout=90, what="the job to give up")

    assert job.state == "failed"
    assert job.reason == "engine_unavailable"
    assert job.engine_attempts >= 2
    retries = AuditEvent.objects.filter(object_id=job_id, action="job.retry_scheduled")
    assert retries.count() == job.engine_attempts
    body = client.get(f"/api/v1/jobs/{job_id}").json()
    assert body["reason"] == "engine_unavailable"
    assert "Retry" in body["reason_message"]

    engine = start_engine(port=port, name="engine-back")
    try:
        retried = client.post(f"/api/v1/jobs/{job_id}/retry")
        assert retried.status_code == 202, retried.content
        job = wait_until(lambda: final_job(job_id), timeout=120, what="the retried job")
    finally:
        engine.process.stop()

    assert job.state == "succeeded"
    assert job.reason == ""
    # The model confirms the weak hit (fail) or leaves it to a person.
    verdict = client.get(f"/api/v1/jobs/{job_id}").json()["result"]["verdict"]
    assert verdict in ("fail", "needs_review")


@pytest.mark.django_db(transaction=True)
def test_retry_rejected_while_running(make_user, api_client_for):
    from appliance.jobs import services
    from appliance.jobs.models import Workload

    owner = make_user(Role.STAFF)
    job = services.submit(
        owner, Workload.COMPLIANCE_CHECK, text="Hello.", enqueue=False
    )
    response = api_client_for(owner).post(f"/api/v1/jobs/{job.id}/retry")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_retryable"


@pytest.mark.django_db(transaction=True)
def test_retry_by_another_user_is_hidden(make_user, api_client_for):
    from appliance.jobs import services
    from appliance.jobs.models import Workload

    owner = make_user(Role.STAFF)
    other = make_user(Role.STAFF)
    job = services.submit(
        owner, Workload.COMPLIANCE_CHECK, text="Hello.", enqueue=False
    )
    response = api_client_for(other).post(f"/api/v1/jobs/{job.id}/retry")
    assert response.status_code == 404
