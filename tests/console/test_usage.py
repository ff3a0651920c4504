"""The admin console's usage and cost page and its live status page."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from appliance.accounts.models import Team
from appliance.accounts.roles import Role
from appliance.console import usage
from appliance.inference.models import ModelCall
from appliance.jobs import services as jobs
from appliance.jobs.models import Workload
from appliance.privacy.redaction import redact

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def prices(settings):
    settings.LOCAL_HOURLY_COST = Decimal("3.6")
    settings.EXTERNAL_PRICE_INPUT_PER_MTOK = Decimal("2")
    settings.EXTERNAL_PRICE_OUTPUT_PER_MTOK = Decimal("8")


def call(workload: str, subject: str, prompt: int, completion: int, ms: int, **kw):
    return ModelCall.objects.create(
        workload=workload,
        subject_id=subject,
        engine="default",
        kind="llamacpp",
        model="m",
        outcome=kw.get("outcome", ModelCall.Outcome.OK),
        prompt_tokens=prompt,
        completion_tokens=completion,
        latency_ms=ms,
    )


def test_costs_by_workload_and_team(make_user, prices):
    marketing = Team.objects.create(name="Marketing")
    people = Team.objects.create(name="People")
    analyst = make_user(Role.STAFF)
    analyst.team = marketing
    analyst.save()
    clerk = make_user(Role.STAFF)
    clerk.team = people
    clerk.save()
    job = jobs.submit(analyst, Workload.COMPLIANCE_CHECK, text="x", enqueue=False)
    scope = str(uuid.uuid4())
    redact("Ask Jane Roe.", scope_id=scope, owner_id=clerk.pk)

    # 3,600 tokens in 2 s of engine time: 6.48 million tokens an hour.
    call("compliance_check", str(job.id), 900, 300, 1000)
    call("chat", scope, 2000, 400, 1000)
    call("chat", scope, 0, 0, 5000, outcome=ModelCall.Outcome.UNAVAILABLE)

    report = usage.report(days=30)

    assert report.tokens_per_hour == pytest.approx(6_480_000)
    per_token = Decimal("3.6") / Decimal(6_480_000)
    groups = {(g.workload, g.team): g for g in report.groups}
    compliance = groups[("compliance_check", "Marketing")]
    chat = groups[("chat", "People")]
    assert compliance.requests == 1
    assert chat.requests == 2
    assert chat.failures == 1
    assert float(compliance.local_cost) == pytest.approx(float(1200 * per_token))
    assert float(compliance.external_cost) == pytest.approx(
        (900 * 2 + 300 * 8) / 1_000_000
    )
    assert float(chat.external_cost) == pytest.approx((2000 * 2 + 400 * 8) / 1e6)
    ratio = compliance.ratio
    assert ratio is not None
    assert ratio == pytest.approx(
        float(compliance.external_cost / compliance.local_cost)
    )
    assert ratio > 1
    assert report.total.tokens == 3600


def test_unknown_subject_is_unattributed(prices):
    call("annotation", "not-a-uuid", 10, 5, 100)
    report = usage.report()
    assert [(g.workload, g.team) for g in report.groups] == [
        ("annotation", usage.UNATTRIBUTED)
    ]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_usage_page_for_admins_only(make_user, prices):
    call("chat", str(uuid.uuid4()), 100, 50, 200)
    admin_page = signed_in(make_user(Role.ADMIN)).get("/admin/usage/?days=7")
    assert admin_page.status_code == 200
    page = admin_page.content.decode()
    assert "Usage and cost" in page
    assert 'id="usage-table"' in page
    assert "<td>chat</td>" in page

    staff_page = signed_in(make_user(Role.STAFF)).get("/admin/usage/")
    assert staff_page.status_code == 302
    assert "/admin/login/" in staff_page["Location"]

    auditor = make_user(Role.AUDITOR)
    auditor.is_staff = True
    auditor.save()
    assert signed_in(auditor).get("/admin/usage/").status_code == 403


def test_status_page_shows_engine_and_queues(make_user, engine_url):
    page = signed_in(make_user(Role.ADMIN)).get("/admin/status/")
    assert page.status_code == 200
    text = page.content.decode()
    assert engine_url in text
    assert 'class="state-ok">ok</td>' in text
    assert "maintenance" in text
    assert 'id="workers"' in text


def test_admin_index_links_the_pages(make_user):
    page = signed_in(make_user(Role.ADMIN)).get("/admin/")
    assert 'href="/admin/usage/"' in page.content.decode()
