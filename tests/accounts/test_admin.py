"""The Django admin: administrators configure accounts and keys and see job
metadata, never job content."""

from __future__ import annotations

import pytest
from django.test import Client

from appliance.accounts.models import ApiKey
from appliance.accounts.roles import Role
from appliance.accounts.services import find_api_key
from appliance.jobs import services as jobs
from appliance.jobs.models import Workload

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_TEXT = "Quarterly bonus for Jane Roe is guaranteed."


@pytest.fixture
def admin_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    return client


def test_job_pages_show_metadata_only(admin_client, make_user):
    job = jobs.submit(
        make_user(Role.STAFF),
        Workload.COMPLIANCE_CHECK,
        text=SECRET_TEXT,
        enqueue=False,
    )
    listing = admin_client.get("/admin/jobs/job/")
    detail = admin_client.get(f"/admin/jobs/job/{job.id}/change/")
    assert listing.status_code == 200
    assert detail.status_code == 200
    assert str(job.id) in listing.content.decode()
    for page in (listing, detail):
        assert "Jane Roe" not in page.content.decode()
        assert "guaranteed" not in page.content.decode()


def test_jobs_cannot_be_changed(admin_client, make_user):
    job = jobs.submit(
        make_user(Role.STAFF), Workload.COMPLIANCE_CHECK, text="x", enqueue=False
    )
    response = admin_client.post(f"/admin/jobs/job/{job.id}/delete/", {"post": "yes"})
    assert response.status_code == 403


def test_api_key_shown_once_on_creation(admin_client, make_user):
    service = make_user(Role.STAFF)
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {"user": service.pk, "name": "crm"},
        follow=True,
    )
    page = response.content.decode()
    assert "Copy it now" in page
    plaintext = page.split("not shown again: ")[1].split("<")[0].strip()
    key = find_api_key(plaintext)
    assert key is not None
    assert key.name == "crm"
    assert ApiKey.objects.count() == 1
    assert plaintext not in admin_client.get("/admin/accounts/apikey/").content.decode()


def test_staff_refused_admin(make_user):
    client = Client()
    client.force_login(make_user(Role.STAFF))
    response = client.get("/admin/jobs/job/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
