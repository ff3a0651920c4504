"""Live state for the admin console: each engine and the workloads routed to
it, the depth of each queue, and which Celery workers answer a ping. Every
probe is bounded by a short timeout and reports a failure as a state, never
raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from celery import current_app
from django.conf import settings

from appliance.inference import registry

TIMEOUT = 2.0


@dataclass(frozen=True)
class EngineState:
    name: str
    kind: str
    url: str
    model: str
    workloads: list[str]
    state: str


@dataclass(frozen=True)
class QueueState:
    name: str
    messages: int | None
    consumers: int | None
    state: str


def engines() -> list[EngineState]:
    routed: dict[str, list[str]] = {}
    for workload in registry.routed_workloads():
        routed.setdefault(registry.engine_for(workload).name, []).append(workload)
    states = []
    for name, engine in registry.all_engines().items():
        headers = (
            {"Authorization": f"Bearer {engine.api_key}"} if engine.api_key else {}
        )
        try:
            response = httpx.get(
                f"{engine.url}/models", headers=headers, timeout=TIMEOUT
            )
            state = (
                "ok" if response.status_code < 400 else f"HTTP {response.status_code}"
            )
        except httpx.HTTPError as exc:
            state = f"down ({type(exc).__name__})"
        states.append(
            EngineState(
                name=name,
                kind=engine.kind,
                url=engine.url,
                model=engine.model,
                workloads=routed.get(name, []),
                state=state,
            )
        )
    return states


def queue_names() -> list[str]:
    routes: dict[str, dict[str, str]] = settings.CELERY_TASK_ROUTES
    return sorted({route["queue"] for route in routes.values()})


def queues() -> list[QueueState]:
    states = []
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=int(TIMEOUT))
            channel: Any = conn.default_channel
            for name in queue_names():
                try:
                    declared = channel.queue_declare(queue=name, passive=True)
                    states.append(
                        QueueState(
                            name, declared.message_count, declared.consumer_count, "ok"
                        )
                    )
                except Exception as exc:  # the queue does not exist yet, or no AMQP
                    states.append(QueueState(name, None, None, type(exc).__name__))
                    channel = conn.channel()
    except Exception as exc:  # broker down
        return [
            QueueState(name, None, None, f"broker down ({type(exc).__name__})")
            for name in queue_names()
        ]
    return states


def workers() -> dict[str, str]:
    """Worker name -> "ok" for every worker that answered a ping."""
    try:
        replies = current_app.control.ping(timeout=TIMEOUT) or []
    except Exception:  # broker down: no worker can answer
        return {}
    return {name: "ok" for reply in replies for name in reply}
