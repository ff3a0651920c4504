"""File annotation in the portal: a zip upload becomes a batch whose
progress page polls until every file is done, with the real model."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from appliance.accounts.roles import Role
from appliance.annotation.models import Batch
from appliance.annotation.services import process_job
from appliance.jobs import execution
from tests.support import documents

pytestmark = pytest.mark.django_db(transaction=True)

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_batch_progress_until_finished(make_user, engine_url, monkeypatch):
    # Jobs run below in this process rather than through the broker.
    monkeypatch.setattr("appliance.jobs.dispatch.enqueue", lambda job: None)
    owner = make_user(Role.STAFF)
    client = signed_in(owner)
    archive = documents.zip_of([("memo.txt", MEMO.encode()), ("empty.txt", b"")])
    response = client.post(
        "/annotation/new/",
        {"files": SimpleUploadedFile("files.zip", archive, "application/zip")},
    )
    batch = Batch.objects.get(owner=owner)
    assert response["Location"] == f"/annotation/batches/{batch.id}/"

    waiting = client.get(f"/annotation/batches/{batch.id}/").content.decode()
    assert f'hx-get="/annotation/batches/{batch.id}/progress/"' in waiting
    assert "0 of 2 done" in waiting
    assert "memo.txt" in waiting

    for item in batch.items.all():
        execution.execute(str(item.job_id), process_job)
    finished = client.get(f"/annotation/batches/{batch.id}/progress/")
    text = finished.content.decode()
    assert "hx-trigger" not in text
    assert "1 of 2 done, 1 failed, 0 waiting" in text

    memo_job = batch.items.get(position=1).job
    page = client.get(f"/jobs/{memo_job.id}/").content.decode()
    assert 'id="document-type"' in page


def test_other_persons_batch_not_found(make_user, monkeypatch):
    monkeypatch.setattr("appliance.jobs.dispatch.enqueue", lambda job: None)
    owner = make_user(Role.STAFF)
    signed_in(owner).post(
        "/annotation/new/",
        {
            "files": [
                SimpleUploadedFile("a.txt", b"First file."),
                SimpleUploadedFile("b.txt", b"Second file."),
            ]
        },
    )
    batch = Batch.objects.get(owner=owner)
    other = signed_in(make_user(Role.STAFF))
    assert other.get(f"/annotation/batches/{batch.id}/").status_code == 404
    assert other.get(f"/annotation/batches/{batch.id}/progress/").status_code == 404


def test_empty_upload_rejected(make_user):
    client = signed_in(make_user(Role.STAFF))
    response = client.post("/annotation/new/", {})
    assert response.status_code == 400
    assert "no files" in response.content.decode()
