"""POST /api/v1/hr/policies: HR administrators upload policy versions, which
a real Celery worker indexes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from appliance.accounts.models import Team
from appliance.accounts.roles import Role
from appliance.hr.models import IndexState, PolicyVersion
from tests.conftest import worker_env
from tests.support.polling import wait_until
from tests.support.processes import start_worker

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/hr/policies"
POLICY = b"# Travel\n\n## Meals\n\nMeals are reimbursed up to $60 per day.\n"


def upload(client: Any, **fields: Any) -> Any:
    data = {
        "file": fields.pop("file", None) or _file(POLICY),
        "title": "Travel",
        "version": "2026",
        "effective_from": "2026-01-01",
        **fields,
    }
    return client.post(URL, data, format="multipart")


def _file(content: bytes, name: str = "travel.md"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/markdown")


@pytest.fixture
def hr_worker(engine):
    process = start_worker(
        f"hr-{uuid.uuid4().hex[:6]}", worker_env(engine.url), queues="hr"
    )
    yield process
    process.stop()


def test_upload_is_indexed_by_worker(make_user, api_client_for, hr_worker):
    client = api_client_for(make_user(Role.HR_ADMIN))
    response = upload(client)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["policy"] == "travel"
    assert body["state"] == "pending"

    def indexed() -> bool:
        return PolicyVersion.objects.get(id=body["id"]).state == IndexState.READY

    wait_until(indexed, timeout=120, what="the worker to index the policy")
    version = PolicyVersion.objects.get(id=body["id"])
    chunk = version.chunks.get()
    assert chunk.section == "Travel > Meals"
    assert len(chunk.embedding) == 384
    detail = client.get(f"{URL}/{body['id']}").json()
    assert detail["state"] == "ready"


def test_upload_for_teams(make_user, api_client_for):
    Team.objects.create(name="Engineering")
    client = api_client_for(make_user(Role.HR_ADMIN))
    response = upload(client, teams=["Engineering"])
    assert response.status_code == 202, response.content
    assert response.json()["teams"] == ["Engineering"]
    version = PolicyVersion.objects.get(id=response.json()["id"])
    assert version.for_everyone is False

    unknown = upload(client, teams=["Nobody"], version="2027")
    assert unknown.status_code == 400


def test_same_version_twice_conflicts(make_user, api_client_for):
    client = api_client_for(make_user(Role.HR_ADMIN))
    assert upload(client).status_code == 202
    again = upload(client)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_bad_files_are_rejected(make_user, api_client_for):
    client = api_client_for(make_user(Role.HR_ADMIN))
    empty = upload(client, file=_file(b"   "))
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "empty_file"
    corrupt = upload(client, file=_file(b"%PDF-1.7\n\x00\x01garbage", "p.pdf"))
    assert corrupt.status_code == 400
    assert PolicyVersion.objects.count() == 0


@pytest.mark.parametrize("role", [Role.STAFF, Role.REVIEWER, Role.AUDITOR])
def test_only_hr_admin_uploads(role, make_user, api_client_for):
    client = api_client_for(make_user(role))
    response = upload(client)
    assert response.status_code == 403
    assert PolicyVersion.objects.count() == 0
