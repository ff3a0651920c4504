"""Streaming through the real HTTP server: gunicorn with the gthread workers
the launcher starts sends each server-sent event as the model writes it."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from appliance.accounts.roles import Role
from appliance.accounts.services import issue_api_key
from tests.conftest import worker_env
from tests.support.processes import free_port, spawn, wait_for_http

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = (
    "# Leave\n\n## Bereavement\n\nEmployees may take 5 days of bereavement "
    "leave when a close relative dies.\n"
)


@pytest.fixture
def web_server(engine):
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [
        gunicorn,
        "appliance.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        # As the launcher starts it.
        "--worker-class",
        "gthread",
        "--workers",
        "1",
        "--threads",
        "4",
        "--timeout",
        "120",
    ]
    process = spawn(f"gunicorn-{uuid.uuid4().hex[:6]}", command, worker_env(engine.url))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    except TimeoutError:
        process.stop()
        raise AssertionError(process.log_tail()) from None
    yield f"http://127.0.0.1:{port}"
    process.stop()


def test_events_arrive_while_model_writes(add_policy, make_user, web_server):
    add_policy(POLICY, title="Leave")
    key = issue_api_key(make_user(Role.STAFF), "stream test").plaintext
    arrivals: list[tuple[float, str, dict[str, Any]]] = []
    started = time.monotonic()
    with httpx.stream(
        "POST",
        f"{web_server}/api/v1/hr/questions",
        json={"question": "How many days of bereavement leave do I get?"},
        headers={"Authorization": f"Bearer {key}", "Accept": "text/event-stream"},
        timeout=120,
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
                arrivals.append((time.monotonic() - started, name, data))

    names = [name for _, name, _ in arrivals]
    assert names[0] == "conversation"
    assert names[-2:] == ["answer", "done"]
    token_times = [at for at, name, _ in arrivals if name == "token"]
    assert len(token_times) > 3
    # Tokens were sent one by one, not buffered until the answer was done.
    assert token_times[-1] - token_times[0] > 0.05
    answer = arrivals[-2][2]
    assert "5 days of bereavement leave" in answer["citations"][0]["quote"]
