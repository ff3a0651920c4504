"""Task shells. Each one sets the log context and calls one service. The
logic lives in appliance/, so the same code runs in a test, a command and a
worker. Task arguments are job ids only, never content."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from appliance.annotation.services import process_job as annotate_job
from appliance.api import idempotency
from appliance.audit import verification
from appliance.compliance.services import process_job
from appliance.escalation import egress
from appliance.hr import library
from appliance.hr.embeddings import EmbeddingsUnavailable
from appliance.jobs import execution
from appliance.logging import log_context
from appliance.webhooks import services as webhooks


# max_retries=None: the job's own retry window (ENGINE_RETRY_WINDOW) bounds
# retries, not a count.
@shared_task(bind=True, name="compliance.check", max_retries=None)
def check_compliance(self: Task[Any, Any], job_id: str) -> dict[str, Any]:
    with log_context(task_id=str(self.request.id), job_id=job_id):
        outcome = execution.execute(job_id, process_job)
    if outcome.retry_in is not None:
        # Retries the task schedules itself are not deliveries: execute() has
        # already given the delivery back.
        raise self.retry(countdown=outcome.retry_in)
    return {"job_id": job_id, "state": outcome.state}


@shared_task(bind=True, name="annotation.annotate", max_retries=None)
def annotate_file(self: Task[Any, Any], job_id: str) -> dict[str, Any]:
    with log_context(task_id=str(self.request.id), job_id=job_id):
        outcome = execution.execute(job_id, annotate_job)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return {"job_id": job_id, "state": outcome.state}


@shared_task(bind=True, name="jobs.sweep")
def sweep_jobs(self: Task[Any, Any]) -> dict[str, int]:
    with log_context(task_id=str(self.request.id)):
        report = execution.sweep()
    return {"requeued": len(report.requeued), "failed": len(report.failed)}


@shared_task(bind=True, name="audit.verify")
def verify_audit_log(self: Task[Any, Any]) -> dict[str, Any]:
    with log_context(task_id=str(self.request.id)):
        report = verification.run_scheduled()
    return {
        "ok": report.ok,
        "log_size": report.log_size,
        "first_bad_index": report.first_bad_index,
    }


# Attempts are counted on the delivery row (WEBHOOK_MAX_ATTEMPTS), not here.
@shared_task(bind=True, name="webhooks.deliver", max_retries=None)
def deliver_webhook(self: Task[Any, Any], delivery_id: str) -> dict[str, Any]:
    with log_context(task_id=str(self.request.id), delivery_id=delivery_id):
        retry_in = webhooks.deliver(delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)
    return {"delivery_id": delivery_id}


@shared_task(bind=True, name="webhooks.sweep")
def sweep_webhooks(self: Task[Any, Any]) -> dict[str, int]:
    with log_context(task_id=str(self.request.id)):
        return {"resent": webhooks.sweep()}


@shared_task(bind=True, name="api.prune")
def prune_idempotency_keys(self: Task[Any, Any]) -> dict[str, int]:
    with log_context(task_id=str(self.request.id)):
        return {"deleted": idempotency.prune()}


# Sending is not retried by Celery: egress.send retries transient provider
# errors itself and leaves the request failed after that, so a redelivery
# never sends the same bytes twice.
@shared_task(bind=True, name="escalation.send")
def send_escalation(self: Task[Any, Any], request_id: str) -> dict[str, str]:
    with log_context(task_id=str(self.request.id), escalation_id=request_id):
        outcome = egress.send(request_id)
    return {"escalation_id": request_id, "state": outcome.state}


# Retries only while the embeddings endpoint does not answer; a version whose
# indexing failed for good is marked failed by the service.
@shared_task(
    bind=True,
    name="hr.index_policy",
    autoretry_for=(EmbeddingsUnavailable,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def index_policy(self: Task[Any, Any], version_id: str) -> dict[str, Any]:
    with log_context(task_id=str(self.request.id), policy_version=version_id):
        state = library.index_version(int(version_id))
    return {"policy_version": version_id, "state": state}
