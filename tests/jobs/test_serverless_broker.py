"""The quick start's fallback broker: kombu's SQLAlchemy transport on the same
PostgreSQL, for a machine with neither RabbitMQ nor Redis."""

from __future__ import annotations

import pytest
from celery import Celery
from django.conf import settings
from kombu.transport.sqlalchemy import Channel as SqlalchemyChannel

from appliance import embedded
from appliance.accounts.roles import Role
from appliance.jobs import services as jobs
from appliance.jobs.models import FINAL_STATES, Job, Workload
from tests.conftest import database_url
from tests.support.polling import wait_until
from tests.support.processes import free_port


def test_fallback_chosen_when_no_broker_answers(monkeypatch):
    closed = free_port()
    monkeypatch.setattr(
        embedded, "LOCAL_BROKERS", (f"amqp://guest:guest@127.0.0.1:{closed}//",)
    )
    url = embedded.choose_broker("postgresql://postgres:@/appliance?host=/run/pg")
    assert url == "sqla+postgresql+psycopg://postgres@/appliance?host=/run/pg"


def test_first_answering_broker_chosen():
    assert embedded.choose_broker("postgresql://x@/y?host=/z").startswith("amqp://")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_job_runs_over_database_broker(make_user, engine, worker_factory):
    broker = embedded.sqlalchemy_broker_url(database_url())
    worker_factory("sqla", engine.url, APPLIANCE_BROKER_URL=broker)
    job = jobs.submit(
        make_user(Role.STAFF),
        Workload.COMPLIANCE_CHECK,
        text="Zero risk, guaranteed 8% returns.",
        enqueue=False,
    )

    publisher = Celery(broker=broker, set_as_current=False)
    publisher.conf.task_routes = settings.CELERY_TASK_ROUTES
    publisher.send_task("compliance.check", args=[str(job.id)])
    publisher.close()
    # kombu caches one SQLAlchemy engine per URL for the process; dispose of
    # it so that the test database can be dropped at the end of the run.
    for engine, _ in SqlalchemyChannel._engines.values():
        engine.dispose()

    done = wait_until(
        lambda: Job.objects.filter(id=job.id, state__in=FINAL_STATES).first(),
        timeout=120,
        what="the job to finish over the database broker",
    )
    assert done.state == "succeeded", done.reason


def test_quickstart_queue_prefix_unique_per_install(tmp_path):
    first = embedded.queue_prefix(tmp_path / "one")
    second = embedded.queue_prefix(tmp_path / "two")
    assert first != second
    assert first == embedded.queue_prefix(tmp_path / "one")
    assert first.endswith(".")
