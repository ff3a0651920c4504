"""The Django admin: administrators configure accounts and keys and see job
metadata, never job content."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from appliance.accounts.models import ApiKey, User
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


def service_account(make_user: object) -> User:
    from appliance.accounts.services import create_user

    return create_user("crm-system", roles=[Role.STAFF], service_account=True)


def test_api_key_shown_once_on_its_own_page(admin_client, make_user):
    service = service_account(make_user)
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {
            "user": service.pk,
            "name": "crm",
            "scopes": ["compliance", "jobs"],
            "rate_limit_per_minute": "120",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    found = re.search(r'id="plaintext-key"[^>]*value="([^"]+)"', page, re.S)
    assert found is not None
    plaintext = found[1]
    key = find_api_key(plaintext)
    assert key is not None
    assert key.name == "crm"
    assert key.scopes == ["compliance", "jobs"]
    assert key.rate_limit_per_minute == 120
    assert plaintext not in str(response.cookies)
    assert plaintext not in admin_client.get("/admin/accounts/apikey/").content.decode()


def test_api_key_refused_for_a_person(admin_client, make_user):
    person = make_user(Role.STAFF)
    response = admin_client.post(
        "/admin/accounts/apikey/add/", {"user": person.pk, "name": "impersonate"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert ApiKey.objects.count() == 0


def test_later_key_cannot_read_earlier_jobs(make_user, api_client_for):
    service = service_account(make_user)
    first = api_client_for(service)
    job_id = first.post(
        "/api/v1/compliance-checks", {"text": "Hello."}, format="json"
    ).json()["id"]
    later = api_client_for(service)
    assert first.get(f"/api/v1/jobs/{job_id}").status_code == 200
    assert later.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert later.get("/api/v1/jobs").json()["results"] == []


def test_admin_cannot_grant_self_superuser(make_user):
    admin_user = make_user(Role.ADMIN)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="groups"' not in page


def test_admin_cannot_set_another_password(admin_client, make_user):
    person = make_user(Role.STAFF)
    response = admin_client.get(f"/admin/accounts/user/{person.pk}/password/")
    assert response.status_code == 403


def test_admin_changes_audited(admin_client, make_user):
    from appliance.audit.models import AuditEvent
    from appliance.audit.services import read_fields

    admin_client.post("/admin/accounts/team/add/", {"name": "Marketing"})
    event = AuditEvent.objects.get(action="admin.added")
    assert event.object_type == "accounts.team"
    assert read_fields(event)["actor"].startswith("admin-")


def test_staff_refused_admin(make_user):
    client = Client()
    client.force_login(make_user(Role.STAFF))
    response = client.get("/admin/jobs/job/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
