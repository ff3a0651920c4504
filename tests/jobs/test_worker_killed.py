"""A worker killed in the middle of a job, its message gone: the sweeper
brings the job to exactly one success."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.inference.models import ModelCall
from appliance.jobs.models import FINAL_STATES, Job
from appliance.jobs.payloads import read_result
from tests.conftest import purge_queue
from tests.support.engine_proxy import EngineProxy
from tests.support.polling import wait_until


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_worker_job_recovered_once(
    make_user, api_client_for, engine, worker_factory
):
    owner = make_user(Role.STAFF)
    client = api_client_for(owner)

    # The proxy holds each model call for longer than the lease, so that the
    # kill lands in the middle of one that the heartbeat keeps leased.
    with EngineProxy(engine.url, delay=10) as slow_engine:
        doomed = worker_factory(
            "doomed",
            slow_engine.url,
            APPLIANCE_TASK_TIME_LIMIT="60",
            APPLIANCE_JOB_LEASE="4",
        )
        response = client.post(
            "/api/v1/compliance-checks",
            # A weak pattern hit only: the model is asked to confirm it.
            {"text": "Our fund is a safe investment, every year."},
            format="json",
        )
        job_id = response.json()["id"]
        wait_until(lambda: slow_engine.requests, timeout=60, what="the model call")
        time.sleep(6)  # longer than the lease: only the heartbeat keeps it
        leased = Job.objects.get(id=job_id)
        assert leased.lease_expires_at is not None
        assert leased.lease_expires_at > timezone.now()

        doomed.kill()
        time.sleep(1)  # let the broker requeue the unacknowledged message
        purge_queue("compliance")

        job = Job.objects.get(id=job_id)
        assert job.state == "inferring"
        assert job.deliveries == 1

        worker_factory("rescuer", engine.url, beat=True, APPLIANCE_SWEEP_INTERVAL="1")
        job = wait_until(
            lambda: Job.objects.filter(id=job_id, state__in=FINAL_STATES).first(),
            timeout=120,
            what="the sweeper to recover the job",
        )

    assert job.state == "succeeded"
    assert job.deliveries == 2
    result = read_result(job)
    assert result is not None
    # The model confirms the weak hit (fail) or leaves it to a person.
    assert result["verdict"] in ("fail", "needs_review")
    events = AuditEvent.objects.filter(object_id=job_id)
    assert events.filter(action="job.succeeded").count() == 1
    assert events.filter(action="job.requeued").count() == 1
    assert events.filter(action="job.failed").count() == 0
    assert 1 <= ModelCall.objects.filter(subject_id=job_id).count() <= 2
