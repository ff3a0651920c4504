"""Submitting, reading and retrying jobs."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from appliance.accounts.models import ApiKey, User
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.jobs import dispatch, payloads
from appliance.jobs.models import RETRYABLE_REASONS, Job, State, Workload


class JobNotRetryable(Exception):
    """Only failed jobs with a retryable reason can be retried."""


def submit(
    owner: User,
    workload: Workload,
    *,
    text: str,
    source: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    enqueue: bool = True,
    api_key: ApiKey | None = None,
    file: bytes | None = None,
) -> Job:
    """Create a job with its input sealed, and enqueue it after commit.

    ``source`` describes where the text came from (file name, content type);
    it is sealed with the text, because a file name can itself be personal.
    ``file`` is an uploaded file that the workload itself reads (annotation);
    it is sealed with the rest, as it was uploaded.
    """
    job = Job(
        workload=workload,
        owner=owner,
        team=owner.team,
        api_key=api_key,
        options=options or {},
        input_chars=len(text),
    )
    value: dict[str, Any] = {"text": text, "source": source or {}}
    if file is not None:
        value["file"] = base64.b64encode(file).decode("ascii")
    job.input_sealed = payloads.seal(job.id, payloads.INPUT, value)
    with transaction.atomic():
        job.save()
        record(
            "job.submitted",
            actor=owner,
            object_type="job",
            object_id=job.id,
            details={
                "workload": str(workload),
                "chars": len(text),
                "from_file": file is not None
                or bool(source and source.get("filename")),
            },
        )
        if enqueue:
            dispatch.enqueue(job)
    return job


def retry(job: Job, user: User) -> Job:
    """Put a failed job back in the queue as it is, keeping its input."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.state != State.FAILED or job.reason not in RETRYABLE_REASONS:
            raise JobNotRetryable(job.reason or job.state)
        now = timezone.now()
        job.state = State.QUEUED
        previous_reason = job.reason
        job.reason = ""
        job.deliveries = 0
        job.engine_attempts = 0
        job.engine_failing_since = None
        job.next_attempt_at = None
        job.finished_at = None
        job.updated_at = now
        job.save()
        record(
            "job.retried",
            actor=user,
            object_type="job",
            object_id=job.id,
            details={"previous_reason": previous_reason},
        )
        dispatch.enqueue(job)
    return job


def input_for(job: Job, requester: User) -> dict[str, Any] | None:
    """Return the job's submitted text and source to its owner, and None to
    anyone else: a reviewer works from the findings, not the whole text."""
    if requester.pk != job.owner_id:
        return None
    return payloads.read_input(job)


def visible_job(user: User, job_id: uuid.UUID) -> Job | None:
    """Return the job if ``user`` may read it (see ``JobQuerySet.visible_to``),
    else None. A request for another person's job is audited as a denial."""
    job = Job.objects.visible_to(user).filter(id=job_id).first()
    if job is None and Job.objects.filter(id=job_id).exists():
        record(
            "job.access_denied",
            actor=user,
            object_type="job",
            object_id=job_id,
            outcome=Outcome.DENIED,
            durable=True,
        )
    return job
