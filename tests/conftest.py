"""Fixtures with real parts: the embedded PostgreSQL (through the test
settings), the broker on localhost, the llama.cpp server with the real small
model, and Celery workers started as separate processes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections
from rest_framework.test import APIClient

from appliance.accounts.models import User
from appliance.accounts.roles import Role
from appliance.accounts.services import create_user, install_roles, issue_api_key
from appliance.audit import datakeys
from appliance.inference import registry
from tests.support.processes import Engine, Process, start_engine, start_worker


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """Close every connection before the test database is dropped: the
    ``audit`` alias holds a connection of its own to it."""
    yield
    connections.close_all()


@pytest.fixture(autouse=True)
def fresh_audit_caches() -> Iterator[None]:
    """Forget the audit log's cached log id and data keys around each test: a
    test that empties the tables makes the next one start a new log."""
    datakeys.reset_caches()
    yield
    datakeys.reset_caches()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The real llama.cpp server with SmolLM2-135M-Instruct, for the session."""
    server = start_engine(name="session-engine")
    yield server
    server.process.stop()


def use_engine(url: str, model: str = Engine.model, kind: str = "llamacpp") -> None:
    settings.ENGINE_DEFAULT = {
        **settings.ENGINE_DEFAULT,
        "url": url,
        "model": model,
        "kind": kind,
    }
    registry.reset()


@pytest.fixture
def engine_url(engine: Engine) -> Iterator[str]:
    """Point this process's engine registry at the session engine."""
    original = settings.ENGINE_DEFAULT
    use_engine(engine.url)
    yield engine.url
    settings.ENGINE_DEFAULT = original
    registry.reset()


@pytest.fixture
def roles(db: None) -> None:
    install_roles()


@pytest.fixture
def make_user(roles: None) -> Callable[..., User]:
    def make(role: Role | str = Role.STAFF, username: str | None = None) -> User:
        name = username or f"{Role(role).value}-{uuid.uuid4().hex[:6]}"
        return create_user(name, roles=[role], password=None)

    return make


@pytest.fixture
def api_client_for() -> Callable[[User], APIClient]:
    """An API client that authenticates with a fresh API key for ``user``."""

    def client_for(user: User) -> APIClient:
        client = APIClient()
        key = issue_api_key(user, "test").plaintext
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return client_for


def database_url() -> str:
    """The URL of the database this test run uses (the test database)."""
    config: dict[str, Any] = connection.settings_dict
    user = quote(config["USER"] or "postgres")
    password = quote(config.get("PASSWORD") or "")
    host = config["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@/{config['NAME']}?host={host}"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgresql://{user}:{password}@{host}{port}/{config['NAME']}"


def worker_env(engine_url: str, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "appliance.settings.test",
            "APPLIANCE_DATABASE_URL": database_url(),
            "APPLIANCE_BROKER_URL": str(settings.CELERY_BROKER_URL),
            "APPLIANCE_QUEUE_PREFIX": settings.QUEUE_PREFIX,
            "APPLIANCE_ENGINE_URL": engine_url,
            "APPLIANCE_ENGINE_MODEL": Engine.model,
            "APPLIANCE_ENGINE_KIND": "llamacpp",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


@pytest.fixture
def worker_factory(transactional_db: None) -> Iterator[Callable[..., Process]]:
    """Start real Celery workers; all are stopped when the test ends."""
    started: list[Process] = []

    def start(name: str, engine_url: str, beat: bool = False, **env: str) -> Process:
        process = start_worker(
            f"{name}-{uuid.uuid4().hex[:6]}", worker_env(engine_url, **env), beat=beat
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def purge_queue(name: str) -> int:
    """Drop every ready message in one of this run's queues."""
    from celery import current_app

    with current_app.connection_for_write() as conn:
        channel: Any = conn.default_channel
        purged: int = channel.queue_purge(settings.QUEUE_PREFIX + name) or 0
    return purged


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Let every database test use the ``audit`` alias too: denials and
    failures are written there, on their own connection."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        uses_db = {"db", "transactional_db"} & set(getattr(item, "fixturenames", ()))
        if marker is None and not uses_db:
            continue
        kwargs = dict(marker.kwargs) if marker else {}
        if "databases" not in kwargs:
            kwargs["databases"] = "__all__"
            item.add_marker(
                pytest.mark.django_db(*(marker.args if marker else ()), **kwargs),
                append=False,
            )
