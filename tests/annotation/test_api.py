"""The annotation endpoints without a worker: submission shapes, limits,
owner-only access, and the export of failed files."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest

from appliance.accounts.roles import Role
from appliance.accounts.services import create_user
from appliance.annotation import batches
from appliance.annotation.models import Batch, BatchItem
from appliance.annotation.services import process_job
from appliance.jobs import execution
from appliance.jobs.models import Job
from appliance.jobs.payloads import read_file, read_input
from tests.support import documents

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")


def upload(client: Any, *files: tuple[str, bytes], query: str = "") -> Any:
    data = {"file": [io.BytesIO(content) for _, content in files]}
    for handle, (name, _) in zip(data["file"], files, strict=True):
        handle.name = name
    return client.post(f"/api/v1/annotations{query}", data, format="multipart")


@pytest.mark.django_db
def test_one_file_makes_one_job(make_user, api_client_for):
    user = make_user(Role.STAFF)

    memo = documents.docx_of(MEMO)

    response = upload(api_client_for(user), ("memo.docx", memo))

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "job"
    assert body["state"] == "queued"
    assert response["Location"] == f"/api/v1/annotations/{body['id']}"
    job = Job.objects.get(id=body["id"])
    assert job.workload == "annotation"
    assert read_file(job) == memo
    assert read_input(job)["source"]["filename"] == "memo.docx"
    assert b"memo.docx" not in bytes(job.input_sealed)
    assert Batch.objects.count() == 0


@pytest.mark.django_db
def test_several_files_make_a_batch(make_user, api_client_for):
    user = make_user(Role.STAFF)
    files = [("a.txt", MEMO.encode()), ("b.txt", b"Second file."), ("c.txt", b"")]

    response = upload(api_client_for(user), *files)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "batch"
    assert body["progress"] == {
        "total": 3,
        "done": 0,
        "failed": 0,
        "pending": 3,
        "finished": False,
    }
    batch = Batch.objects.get(id=body["id"])
    names = [batches.filename(item) for item in batches.items(batch)]
    assert names == ["a.txt", "b.txt", "c.txt"]
    assert all(
        b"a.txt" not in bytes(item.filename_sealed) for item in batch.items.all()
    )


@pytest.mark.django_db
def test_zip_expanded_skipping_metadata(make_user, api_client_for):
    user = make_user(Role.STAFF)
    archive = documents.zip_of(
        [
            ("records/memo.txt", MEMO.encode()),
            ("__MACOSX/records/._memo.txt", b"\0\1"),
            ("records/.DS_Store", b"\0"),
            ("records/notes.txt", b"Notes."),
        ]
    )

    response = upload(api_client_for(user), ("records.zip", archive))

    assert response.status_code == 202, response.content
    batch = Batch.objects.get(id=response.json()["id"])
    assert [batches.filename(item) for item in batches.items(batch)] == [
        "memo.txt",
        "notes.txt",
    ]


@pytest.mark.django_db
def test_single_file_batch_on_request(make_user, api_client_for):
    user = make_user(Role.STAFF)

    response = upload(api_client_for(user), ("a.txt", b"One."), query="?batch=1")

    assert response.json()["kind"] == "batch"


@pytest.mark.django_db
def test_upload_limits(make_user, api_client_for, settings):
    client = api_client_for(make_user(Role.STAFF))
    settings.ANNOTATION_MAX_BATCH_FILES = 2

    too_many = upload(client, ("a.txt", b"A."), ("b.txt", b"B."), ("c.txt", b"C."))
    nothing = client.post("/api/v1/annotations", {}, format="multipart")
    empty_zip = upload(client, ("empty.zip", documents.zip_of([("dir/", b"")])))
    settings.MAX_UPLOAD_BYTES = 2048
    too_big = upload(client, ("big.txt", b"x" * 4096))
    archive = documents.zip_of([(f"{n}.txt", b"x" * 2000) for n in range(11)])
    too_much = upload(client, ("many.zip", archive), query="?batch=1")

    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "too_many_files"
    assert nothing.status_code == 400
    assert nothing.json()["error"]["code"] == "invalid_request"
    assert empty_zip.status_code == 400
    assert empty_zip.json()["error"]["code"] == "invalid_upload"
    assert too_big.status_code == 400
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "file_too_large"
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_zip_bomb_archive_rejected(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\0" * (8 * 1024 * 1024))

    response = upload(client, ("bomb.zip", out.getvalue()))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_large"
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_roles_and_owners(make_user, api_client_for, client):
    owner = make_user(Role.STAFF)
    other = make_user(Role.STAFF)
    reviewer = make_user(Role.REVIEWER)
    auditor = make_user(Role.AUDITOR)
    created = upload(api_client_for(owner), ("a.txt", b"A."), ("b.txt", b"B."))
    batch_id = created.json()["id"]
    job_id = str(BatchItem.objects.get(batch_id=batch_id, position=1).job_id)
    Job.objects.filter(id=job_id).update(reviewer=reviewer)
    paths = [
        f"/api/v1/annotations/{job_id}",
        f"/api/v1/annotations/{job_id}/file",
        f"/api/v1/annotations/batches/{batch_id}",
        f"/api/v1/annotations/batches/{batch_id}/export?format=csv",
    ]

    for path in paths:
        assert api_client_for(other).get(path).status_code == 404, path
        assert api_client_for(reviewer).get(path).status_code == 404, path
        assert api_client_for(auditor).get(path).status_code == 404, path
        assert client.get(path).status_code == 401, path
    assert api_client_for(owner).get(paths[0]).status_code == 200
    assert api_client_for(owner).get(paths[2]).status_code == 200
    assert api_client_for(owner).get(paths[1]).status_code == 409
    denied = upload(api_client_for(auditor), ("a.txt", b"A."))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_service_account_sees_own_key_only(roles, api_client_for):
    robot = create_user("scanner-robot", roles=[Role.STAFF], service_account=True)
    first = api_client_for(robot)
    second = api_client_for(robot)
    created = upload(first, ("a.txt", b"A."), ("b.txt", b"B.")).json()
    assert first.get(f"/api/v1/annotations/batches/{created['id']}").status_code == 200
    assert second.get(f"/api/v1/annotations/batches/{created['id']}").status_code == 404


@pytest.mark.django_db
def test_export_of_failed_files(make_user, api_client_for):
    """Files that fail before the model is asked: no engine is needed."""
    user = make_user(Role.STAFF)
    client = api_client_for(user)
    created = upload(
        client,
        ("=HYPERLINK(1).txt", b""),
        ("broken.pdf", documents.corrupt_pdf()),
        ("scan.pdf", documents.scanned_pdf()),
    ).json()
    batch = Batch.objects.get(id=created["id"])
    for item in batches.items(batch):
        execution.execute(str(item.job_id), process_job)
    url = f"/api/v1/annotations/batches/{batch.id}"

    progress = client.get(url).json()["progress"]
    lines = client.get(f"{url}/export?format=jsonl").content.decode().splitlines()
    table = client.get(f"{url}/export?format=csv").content.decode()
    wrong = client.get(f"{url}/export?format=xml")

    assert progress == {
        "total": 3,
        "done": 0,
        "failed": 3,
        "pending": 0,
        "finished": True,
    }
    records = [json.loads(line) for line in lines]
    assert [record["reason"] for record in records] == [
        "empty_file",
        "corrupt_file",
        "needs_ocr",
    ]
    assert all(record["result"] is None for record in records)
    rows = list(csv.DictReader(io.StringIO(table)))
    assert rows[0]["filename"] == "'=HYPERLINK(1).txt"
    assert [row["state"] for row in rows] == ["failed"] * 3
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_request"
