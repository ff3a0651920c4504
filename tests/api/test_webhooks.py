"""Webhooks: registered per user, called by a real Celery worker when a job
finishes, signed, retried after a failure, and carrying no content."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from appliance.accounts.roles import Role
from appliance.accounts.services import issue_api_key
from appliance.jobs import execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Workload
from appliance.webhooks.models import Delivery
from tests.conftest import worker_env
from tests.support.polling import wait_until
from tests.support.processes import start_worker

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_TEXT = "Send Jane Roe's salary to the board."


class Receiver:
    """A local HTTP server that records each POST and answers with the next
    status in ``statuses`` (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append((dict(self.headers), self.rfile.read(length)))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/jobs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Receiver([500])
    yield server
    server.close()


def test_host_outside_the_allow_list_is_rejected(make_user, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.internal"]
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + issue_api_key(make_user(Role.STAFF), "hooks").plaintext
    )
    response = client.post(
        "/api/v1/webhooks", {"url": "http://169.254.169.254/latest"}, format="json"
    )
    assert response.status_code == 400
    assert (
        "APPLIANCE_WEBHOOK_ALLOWED_HOSTS"
        in response.json()["error"]["fields"]["url"][0]
    )


def test_finished_job_is_delivered_signed_and_retried(make_user, receiver):
    owner = make_user(Role.STAFF)
    stranger = make_user(Role.STAFF)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer " + issue_api_key(owner, "hooks").plaintext
    )
    created = client.post("/api/v1/webhooks", {"url": receiver.url}, format="json")
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    listed = client.get("/api/v1/webhooks").json()["results"]
    assert [hook["url"] for hook in listed] == [receiver.url]
    assert "secret" not in listed[0]

    worker = start_worker(
        f"webhooks-{uuid.uuid4().hex[:6]}",
        worker_env(
            "http://127.0.0.1:9/v1",
            APPLIANCE_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
            APPLIANCE_WEBHOOK_RETRY_BACKOFF="0.5",
        ),
        queues="maintenance",
    )
    try:
        job = jobs.submit(
            owner, Workload.COMPLIANCE_CHECK, text=SECRET_TEXT, enqueue=False
        )
        # Another user's finished job must not reach this owner's webhook.
        other = jobs.submit(
            stranger, Workload.COMPLIANCE_CHECK, text="x", enqueue=False
        )
        for each in (job, other):
            lease = execution.claim(str(each.id))
            assert lease is not None
            execution.succeed(lease, {"verdict": "fail", "findings": []})

        delivery = wait_until(
            lambda: Delivery.objects.filter(state=Delivery.State.DELIVERED).first(),
            timeout=60,
            what="the webhook delivery",
        )
    finally:
        worker.stop()

    assert delivery.attempts == 2
    assert len(receiver.requests) == 2
    headers, body = receiver.requests[-1]
    payload = json.loads(body)
    assert payload == {
        "event": "job.finished",
        "job_id": str(job.id),
        "workload": "compliance_check",
        "state": "succeeded",
        "reason": None,
        "finished_at": payload["finished_at"],
    }
    assert b"Jane" not in body and b"salary" not in body
    timestamp, signature = (
        part.split("=", 1)[1] for part in headers["X-Appliance-Signature"].split(",")
    )
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert Delivery.objects.count() == 1
    assert settings.WEBHOOK_ALLOWED_HOSTS == ["127.0.0.1"]


def test_webhooks_are_private_to_their_owner(make_user, receiver):
    owner_client = APIClient()
    owner_client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + issue_api_key(make_user(Role.STAFF), "a").plaintext
    )
    other_client = APIClient()
    other_client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + issue_api_key(make_user(Role.STAFF), "b").plaintext
    )
    hook = owner_client.post(
        "/api/v1/webhooks", {"url": receiver.url}, format="json"
    ).json()
    assert other_client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert other_client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert owner_client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert owner_client.get(f"/api/v1/webhooks/{hook['id']}").json()["is_active"] is (
        False
    )
