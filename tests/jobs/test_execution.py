"""Leases, delivery counting and the sweeper, run in this process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.errors import PermanentError, TransientError
from appliance.jobs import dispatch, execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    """Record publishes instead of sending them, so no worker runs the jobs."""
    sent: list[tuple[str, str]] = []

    def record_publish(name: str, job_id: str) -> bool:
        sent.append((name, job_id))
        return True

    monkeypatch.setattr(dispatch, "publish", record_publish)
    return sent


@pytest.fixture
def job(make_user, published) -> Job:
    owner = make_user(Role.STAFF)
    return jobs.submit(owner, Workload.COMPLIANCE_CHECK, text="Some text.")


def test_submit_publishes_after_commit(job, published):
    assert published == [("compliance.check", str(job.id))]


def test_second_claim_refused_while_leased(job):
    first = execution.claim(str(job.id))
    assert first is not None
    assert execution.claim(str(job.id)) is None


def test_expired_lease_can_be_claimed(job):
    assert execution.claim(str(job.id)) is not None
    Job.objects.filter(id=job.id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert execution.claim(str(job.id)) is not None
    assert Job.objects.get(id=job.id).deliveries == 2


def test_only_lease_holder_stores_result(job):
    stale = execution.claim(str(job.id))
    Job.objects.filter(id=job.id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    current = execution.claim(str(job.id))
    assert stale is not None and current is not None
    assert execution.succeed(stale, {"verdict": "pass"}) is False
    assert execution.succeed(current, {"verdict": "pass"}) is True
    assert (
        AuditEvent.objects.filter(object_id=str(job.id), action="job.succeeded").count()
        == 1
    )


def test_finished_job_ignores_redelivery(job):
    outcome = execution.execute(str(job.id), lambda lease: {"verdict": "pass"})
    assert outcome.state == "succeeded"
    again = execution.execute(str(job.id), lambda lease: {"verdict": "fail"})
    assert again.skipped
    assert Job.objects.get(id=job.id).state == "succeeded"


def test_message_for_unknown_job_ignored(db):
    outcome = execution.execute(
        "00000000-0000-0000-0000-000000000000", lambda lease: {}
    )
    assert outcome.skipped


def test_delivery_limit_fails_poison_job(job, settings):
    Job.objects.filter(id=job.id).update(deliveries=settings.JOB_MAX_DELIVERIES)
    assert execution.claim(str(job.id)) is None
    failed = Job.objects.get(id=job.id)
    assert failed.state == "failed"
    assert failed.reason == "delivery_limit_exceeded"


def test_transient_error_gives_delivery_back(job):
    def engine_down(lease):
        raise TransientError(reason="engine_unavailable")

    outcome = execution.execute(str(job.id), engine_down)
    assert outcome.retry_in is not None
    waiting = Job.objects.get(id=job.id)
    assert waiting.state == "queued"
    assert waiting.deliveries == 0
    assert waiting.engine_attempts == 1
    assert waiting.next_attempt_at is not None


def test_retry_window_spent_fails_job(job, settings):
    Job.objects.filter(id=job.id).update(
        engine_failing_since=timezone.now()
        - timedelta(seconds=settings.ENGINE_RETRY_WINDOW + 1)
    )

    def engine_down(lease):
        raise TransientError(reason="engine_unavailable")

    outcome = execution.execute(str(job.id), engine_down)
    assert outcome.retry_in is None
    assert Job.objects.get(id=job.id).reason == "engine_unavailable"


def test_permanent_error_fails_with_reason(job):
    def bad_input(lease):
        raise PermanentError(reason="redaction_failed")

    execution.execute(str(job.id), bad_input)
    failed = Job.objects.get(id=job.id)
    assert (failed.state, failed.reason) == ("failed", "redaction_failed")


def test_unexpected_error_fails_as_internal(job, caplog):
    secret = " ".join(["Jane", "Roe's", "salary"])

    def crash(lease):
        raise KeyError(secret)

    execution.execute(str(job.id), crash)
    assert Job.objects.get(id=job.id).reason == "internal_error"
    assert "Jane Roe" not in caplog.text
    assert "KeyError" in caplog.text


def test_sweep_requeues_expired_lease(job, published):
    execution.claim(str(job.id))
    Job.objects.filter(id=job.id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    published.clear()
    report = execution.sweep()
    assert report.requeued == [str(job.id)]
    assert published == [("compliance.check", str(job.id))]
    assert Job.objects.get(id=job.id).lease_token is None


def test_sweep_requeues_lost_message(job, published, settings):
    old = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_AFTER + 5)
    Job.objects.filter(id=job.id).update(updated_at=old)
    published.clear()
    assert execution.sweep().requeued == [str(job.id)]


def test_sweep_leaves_fresh_queued_job(job, published):
    published.clear()
    assert execution.sweep().requeued == []
    assert published == []


def test_sweep_fails_exhausted_job(job, settings):
    Job.objects.filter(id=job.id).update(
        deliveries=settings.JOB_MAX_DELIVERIES,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        state="inferring",
    )
    assert execution.sweep().failed == [str(job.id)]
    assert Job.objects.get(id=job.id).reason == "delivery_limit_exceeded"


def test_failed_publish_keeps_job(make_user, monkeypatch):
    from celery import current_app

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    job = jobs.submit(make_user(Role.STAFF), Workload.COMPLIANCE_CHECK, text="Text.")
    assert Job.objects.get(id=job.id).state == "queued"


def test_time_limit_fails_as_timed_out(job):
    from celery.exceptions import SoftTimeLimitExceeded

    def slow(lease):
        raise SoftTimeLimitExceeded()

    execution.execute(str(job.id), slow)
    failed = Job.objects.get(id=job.id)
    assert (failed.state, failed.reason) == ("failed", "timed_out")


def test_heartbeat_keeps_long_job_leased(job, settings):
    import time

    settings.JOB_LEASE = 2
    seen: list[object] = []

    def long_work(lease):
        time.sleep(3.5)
        seen.append(execution.claim(str(job.id)))
        return {"verdict": "pass"}

    outcome = execution.execute(str(job.id), long_work)
    assert seen == [None]
    assert outcome.state == "succeeded"
