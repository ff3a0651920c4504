"""Running a job to exactly one stored result, whatever the broker does.

A task never trusts its message. It first claims the job with a guarded
UPDATE that takes a lease (a fresh token and an expiry): a second message for
the same job finds the lease held, or the job finished, and does nothing.
Every later write is guarded by the lease token, so only the holder can move
the job on or store its result.

``deliveries`` counts claims that did not end in a result: it is incremented
by each claim and given back when the task schedules its own retry (an engine
that is down). A job claimed more than ``JOB_MAX_DELIVERIES`` times fails
with ``delivery_limit_exceeded``, so an input that kills its worker cannot
loop forever.

A running task renews its lease (``heartbeat``). The sweeper (``sweep``)
re-enqueues jobs whose lease expired (the worker died) and queued jobs that
no worker picked up in time (the message was lost).
"""

from __future__ import annotations

import logging
import random
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from appliance.audit.models import Outcome as AuditOutcome
from appliance.audit.services import record
from appliance.errors import PermanentError, TransientError
from appliance.jobs import dispatch, payloads
from appliance.jobs.models import ACTIVE_STATES, Job, Reason, State
from appliance.jobs.signals import job_finished
from appliance.logging import current_context, log_context

logger = logging.getLogger(__name__)


@dataclass
class Lease:
    """The right to work on one job, held by one task until it ends."""

    job: Job
    token: uuid.UUID

    def advance(self, state: State) -> None:
        """Move the job to ``state`` (redacting, inferring)."""
        now = timezone.now()
        updated = _held(self).update(state=state, updated_at=now)
        if not updated:
            raise LeaseLost(self.job.id)
        self.job.state = state

    def store_redacted(self, value: dict[str, Any]) -> None:
        sealed = payloads.seal(self.job.id, payloads.REDACTED, value)
        if not _held(self).update(redacted_sealed=sealed, updated_at=timezone.now()):
            raise LeaseLost(self.job.id)
        self.job.redacted_sealed = sealed


class LeaseLost(Exception):
    """Another delivery took the job over; this one must stop quietly."""


@dataclass
class Outcome:
    """The end of one delivery: the job's state, and ``retry_in`` seconds when
    the task shell must schedule a retry."""

    job_id: str
    state: str
    retry_in: float | None = None
    skipped: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def _held(lease: Lease) -> Any:
    return Job.objects.filter(
        id=lease.job.id, lease_token=lease.token, state__in=ACTIVE_STATES
    )


@contextmanager
def heartbeat(lease: Lease) -> Iterator[None]:
    """Renew the lease every quarter of JOB_LEASE while the block runs.

    The renewal runs in a thread of its own, with its own database
    connection, so a long model call cannot let the lease lapse. If the
    worker process dies, renewals stop and the sweeper takes the job back
    once the lease expires.
    """
    stop = threading.Event()
    context = current_context()

    def renew() -> None:
        interval = settings.JOB_LEASE / 4
        try:
            with log_context(**context):
                while not stop.wait(interval):
                    expires = timezone.now() + timedelta(seconds=settings.JOB_LEASE)
                    if not _held(lease).update(lease_expires_at=expires):
                        logger.warning("lease lost while the job runs")
                        return
        except DatabaseError as exc:
            logger.warning("lease renewal failed (%s)", type(exc).__name__)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-{lease.job.id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=settings.JOB_LEASE)


def claim(job_id: str) -> Lease | None:
    """Take the lease on an active job, or return None if it is not claimable."""
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        updated = (
            Job.objects.filter(id=job_id, state__in=ACTIVE_STATES)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .update(
                deliveries=F("deliveries") + 1,
                lease_token=token,
                lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE),
                next_attempt_at=None,
                updated_at=now,
            )
        )
        if not updated:
            return None
        job = Job.objects.get(id=job_id)
        lease = Lease(job=job, token=token)
        if job.deliveries > settings.JOB_MAX_DELIVERIES:
            logger.warning(
                "job exceeded %d deliveries; failing it", settings.JOB_MAX_DELIVERIES
            )
            fail(lease, Reason.DELIVERY_LIMIT_EXCEEDED)
            return None
    return lease


def succeed(lease: Lease, result: dict[str, Any]) -> bool:
    """Store the result and finish the job; False if the lease was lost."""
    now = timezone.now()
    sealed = payloads.seal(lease.job.id, payloads.RESULT, result)
    with transaction.atomic():
        updated = _held(lease).update(
            state=State.SUCCEEDED,
            reason="",
            result_sealed=sealed,
            lease_token=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        )
        if updated:
            record(
                "job.succeeded",
                actor=lease.job.owner,
                object_type="job",
                object_id=lease.job.id,
                details={"workload": lease.job.workload},
            )
            _announce(lease.job, State.SUCCEEDED, "")
    return bool(updated)


def fail(lease: Lease, reason: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        updated = _held(lease).update(
            state=State.FAILED,
            reason=reason,
            lease_token=None,
            lease_expires_at=None,
            next_attempt_at=None,
            finished_at=now,
            updated_at=now,
        )
        if updated:
            record(
                "job.failed",
                actor=lease.job.owner,
                object_type="job",
                object_id=lease.job.id,
                outcome=AuditOutcome.FAILURE,
                details={"workload": lease.job.workload, "reason": str(reason)},
            )
            _announce(lease.job, State.FAILED, str(reason))
    return bool(updated)


def _announce(job: Job, state: State, reason: str) -> None:
    """Send ``job_finished`` once the current transaction commits."""
    arguments = {
        "job_id": job.id,
        "owner_id": job.owner_id,
        "workload": job.workload,
        "state": state.value,
        "reason": reason,
    }
    transaction.on_commit(lambda: job_finished.send(sender=Job, **arguments))


def retry_delay(attempt: int) -> float:
    """Exponential backoff with ±20% jitter, capped by the settings."""
    base = settings.ENGINE_RETRY_BACKOFF * (2 ** max(attempt - 1, 0))
    delay = min(base, settings.ENGINE_RETRY_BACKOFF_MAX)
    # Jitter only spreads retries out; it needs no cryptographic randomness.
    jittered: float = delay * random.uniform(0.8, 1.2)  # noqa: S311
    return jittered


def schedule_retry(lease: Lease, error: TransientError) -> float | None:
    """Give the job back to the queue to retry later, keeping its input.

    Returns the delay in seconds, or None when the retry window is spent and
    the job has been failed with the error's reason instead.
    """
    now = timezone.now()
    job = lease.job
    failing_since = job.engine_failing_since or now
    window_end = failing_since + timedelta(seconds=settings.ENGINE_RETRY_WINDOW)
    if now >= window_end:
        fail(lease, error.reason)
        return None

    attempt = job.engine_attempts + 1
    remaining = (window_end - now).total_seconds()
    delay = min(retry_delay(attempt), remaining)
    with transaction.atomic():
        updated = _held(lease).update(
            state=State.QUEUED,
            deliveries=F("deliveries") - 1,
            engine_attempts=attempt,
            engine_failing_since=failing_since,
            next_attempt_at=now + timedelta(seconds=delay),
            lease_token=None,
            lease_expires_at=None,
            updated_at=now,
        )
        if not updated:
            raise LeaseLost(job.id)
        record(
            "job.retry_scheduled",
            actor=job.owner,
            object_type="job",
            object_id=job.id,
            outcome=AuditOutcome.FAILURE,
            details={
                "reason": error.reason,
                "attempt": attempt,
                "delay_seconds": round(delay, 2),
            },
        )
    return delay


def execute(job_id: str, work: Callable[[Lease], dict[str, Any]]) -> Outcome:
    """Claim the job, run ``work`` on it and record how it ended.

    ``work`` returns the result to store. It raises TransientError for
    failures worth retrying and PermanentError for failures of the input.
    """
    lease = claim(job_id)
    if lease is None:
        current = Job.objects.filter(id=job_id).values_list("state", flat=True).first()
        logger.info("job not claimable (state %s); message ignored", current)
        return Outcome(job_id=job_id, state=str(current), skipped=True)

    try:
        with heartbeat(lease):
            result = work(lease)
    except LeaseLost:
        logger.warning("lease lost while working; another delivery owns the job")
        return Outcome(job_id=job_id, state="unknown", skipped=True)
    except TransientError as exc:
        logger.warning("transient failure (%s); scheduling a retry", exc.reason)
        delay = schedule_retry(lease, exc)
        state = State.QUEUED if delay is not None else State.FAILED
        return Outcome(job_id=job_id, state=state, retry_in=delay)
    except PermanentError as exc:
        logger.warning("job failed: %s", exc.reason)
        fail(lease, exc.reason)
        return Outcome(job_id=job_id, state=State.FAILED)
    except SoftTimeLimitExceeded:
        logger.warning("job ran past the task time limit; failing it")
        fail(lease, Reason.TIMED_OUT)
        return Outcome(job_id=job_id, state=State.FAILED)
    except Exception as exc:
        # The exception's message may quote content, so only its type and the
        # code locations are logged.
        logger.error(
            "job failed with an unexpected %s at:\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        fail(lease, Reason.INTERNAL_ERROR)
        return Outcome(job_id=job_id, state=State.FAILED)

    if not succeed(lease, result):
        logger.warning("lease lost before the result was stored; result dropped")
        return Outcome(job_id=job_id, state="unknown", skipped=True)
    return Outcome(job_id=job_id, state=State.SUCCEEDED)


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep() -> SweepReport:
    """Re-enqueue stuck jobs; fail those that used up their deliveries."""
    now = timezone.now()
    requeue_before = now - timedelta(seconds=settings.JOB_REQUEUE_AFTER)
    lost_worker = Q(lease_expires_at__lt=now)
    lost_message = Q(lease_expires_at__isnull=True) & (
        Q(next_attempt_at__isnull=True, updated_at__lt=requeue_before)
        | Q(next_attempt_at__lt=requeue_before)
    )
    report = SweepReport()
    stuck = Job.objects.filter(state__in=ACTIVE_STATES).filter(
        lost_worker | lost_message
    )
    for job_id in stuck.values_list("id", flat=True)[:1000]:
        with transaction.atomic():
            job = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(id=job_id, state__in=ACTIVE_STATES)
                .filter(lost_worker | lost_message)
                .first()
            )
            if job is None:
                continue
            if job.deliveries >= settings.JOB_MAX_DELIVERIES:
                _fail_exhausted(job, now)
                report.failed.append(str(job.id))
                continue
            Job.objects.filter(id=job.id).update(
                lease_token=None, lease_expires_at=None, updated_at=now
            )
            record(
                "job.requeued",
                object_type="job",
                object_id=job.id,
                details={"deliveries": job.deliveries, "state": job.state},
            )
            dispatch.enqueue(job)
            report.requeued.append(str(job.id))
    if report.requeued or report.failed:
        logger.info(
            "sweep re-enqueued %d jobs and failed %d",
            len(report.requeued),
            len(report.failed),
        )
    return report


def _fail_exhausted(job: Job, now: Any) -> None:
    Job.objects.filter(id=job.id).update(
        state=State.FAILED,
        reason=Reason.DELIVERY_LIMIT_EXCEEDED,
        lease_token=None,
        lease_expires_at=None,
        finished_at=now,
        updated_at=now,
    )
    record(
        "job.failed",
        actor=job.owner,
        object_type="job",
        object_id=job.id,
        outcome=AuditOutcome.FAILURE,
        details={
            "workload": job.workload,
            "reason": Reason.DELIVERY_LIMIT_EXCEEDED.value,
        },
    )
    _announce(job, State.FAILED, Reason.DELIVERY_LIMIT_EXCEEDED.value)
