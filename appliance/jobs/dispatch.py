"""Publishing a job's message to the broker, after the job is committed.

Tasks are sent by name so that the web process needs no import of the
worker code. A publish that fails is logged and left to the sweeper: the job
row is already committed, so nothing is lost.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

from appliance.jobs.models import Job, Workload

logger = logging.getLogger(__name__)

# Celery task name for each workload; workers/tasks.py defines them.
TASK_NAMES = {
    Workload.COMPLIANCE_CHECK: "compliance.check",
    Workload.ANNOTATION: "annotation.annotate",
}


def enqueue(job: Job) -> None:
    """Send the job's task once the current transaction commits."""
    job_id = str(job.id)
    task_name = TASK_NAMES[Workload(job.workload)]
    transaction.on_commit(lambda: publish(task_name, job_id))


def publish(task_name: str, job_id: str) -> bool:
    try:
        current_app.send_task(task_name, args=[job_id])
    except Exception as exc:  # any broker or network failure
        logger.warning(
            "publishing job %s failed (%s); the sweeper will re-enqueue it",
            job_id,
            type(exc).__name__,
        )
        return False
    return True
