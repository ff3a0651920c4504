"""After a full job through a real worker and the real model, no raw entity
value appears in the worker's log, the Celery message or any table."""

from __future__ import annotations

from typing import Any

import pytest
from celery import current_app
from django.conf import settings

from appliance.accounts.roles import Role
from appliance.jobs.models import FINAL_STATES, Job
from tests.support.database import raw_rows_containing
from tests.support.polling import wait_until

VALUES = {
    "PERSON": "Harriet Quinlan",
    "US_SSN": "536-22-8190",
    "EMAIL_ADDRESS": "harriet.quinlan@example.com",
    "PHONE_NUMBER": "(212) 555-0147",
    "STREET_ADDRESS": "1428 Elm Street, Springfield, IL 62704",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "EMPLOYEE_ID": "E204311",
}
TEXT = (
    f"Advertisement approved by {VALUES['PERSON']} (employee ID "
    f"{VALUES['EMPLOYEE_ID']}, SSN {VALUES['US_SSN']}), who lives at "
    f"{VALUES['STREET_ADDRESS']}. Our fund guarantees 12% a year with no risk. "
    f"Questions: {VALUES['EMAIL_ADDRESS']} or {VALUES['PHONE_NUMBER']}; deposits "
    f"by card {VALUES['CREDIT_CARD']}."
)


def peek_message(queue: str) -> dict[str, Any] | None:
    """The first message waiting in ``queue``, put back after reading."""
    with current_app.connection_for_write() as conn:
        channel: Any = conn.default_channel
        message = channel.basic_get(queue, no_ack=False)
        if message is None:
            return None
        body = message.body
        seen = {
            "body": body.encode() if isinstance(body, str) else bytes(body),
            "headers": repr(message.headers),
        }
        channel.basic_reject(message.delivery_info["delivery_tag"], requeue=True)
        return seen


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_full_job_leaves_no_raw_values(
    make_user, api_client_for, engine_url, worker_factory
):
    owner = make_user(Role.STAFF)
    response = api_client_for(owner).post(
        "/api/v1/compliance-checks", {"text": TEXT}, format="json"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    message = wait_until(
        lambda: peek_message(settings.QUEUE_PREFIX + "compliance"),
        timeout=30,
        what="the task message",
    )

    worker = worker_factory("no-leaks", engine_url)
    job = wait_until(
        lambda: Job.objects.filter(id=job_id, state__in=FINAL_STATES).first(),
        timeout=240,
        what="the job to finish",
    )
    assert job.state == "succeeded", job.reason
    worker.stop()
    log = worker.log.read_text(errors="replace")

    # The message and the log are the ones for this job.
    assert job_id.encode() in message["body"]
    assert job_id in log
    for entity_type, value in VALUES.items():
        assert value.encode() not in message["body"], entity_type
        assert value not in message["headers"], entity_type
        assert value not in log, entity_type
        assert raw_rows_containing(value) == [], entity_type
