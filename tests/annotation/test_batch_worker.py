"""A batch of good and bad files through the API and a real Celery worker:
each bad file fails alone with its own reason, the rest succeed, progress
reaches the total, and the results export as JSON Lines and CSV."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest

from appliance.accounts.roles import Role
from appliance.annotation.schema import result_schema
from appliance.annotation.taxonomy import load
from tests.support import documents
from tests.support.polling import wait_until

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")
NOTICE = documents.sample("opm_chco_email_notice_2025-01-09_closure.txt")
BANKS = documents.sample("fdic_failed_bank_list_2000-2016.csv")
SCAMS = documents.sample("usagov_imposter_scams.md")

GOOD = {
    "memo.docx": documents.docx_of(MEMO),
    "notice.pdf": documents.pdf_of(NOTICE),
    "banks.xlsx": documents.xlsx_of(BANKS, rows=15),
    "scams.html": documents.html_of(SCAMS, "Imposter scams"),
}
BAD = {
    "broken.pdf": (documents.corrupt_pdf(), "corrupt_file"),
    "bomb.docx": (documents.docx_bomb(MEMO), "file_too_large"),
    "locked.pdf": (documents.encrypted_pdf(MEMO), "encrypted_file"),
    "empty.txt": (b"", "empty_file"),
    "scan.pdf": (documents.scanned_pdf(), "needs_ocr"),
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_batch_bad_files_fail_alone(
    make_user, api_client_for, engine_url, worker_factory
):
    worker_factory("annotation", engine_url)
    client = api_client_for(make_user(Role.STAFF))
    files = [(name, data) for name, data in GOOD.items()]
    files += [(name, data) for name, (data, _) in BAD.items()]
    archive = documents.zip_of(files)

    response = client.post(
        "/api/v1/annotations",
        {"file": io.BytesIO(archive)},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    created = response.json()
    assert created["kind"] == "batch"
    assert created["progress"]["total"] == len(files)
    url = f"/api/v1/annotations/batches/{created['id']}"
    seen = []

    def finished():
        body = client.get(url).json()
        progress = body["progress"]
        seen.append(progress["done"] + progress["failed"])
        return body if progress["finished"] else None

    batch = wait_until(finished, timeout=600, what="the batch to finish", interval=1)

    progress = batch["progress"]
    assert progress["done"] == len(GOOD)
    assert progress["failed"] == len(BAD)
    assert progress["done"] + progress["failed"] == progress["total"]
    assert progress["pending"] == 0
    assert seen == sorted(seen)
    items = {item["filename"]: item for item in batch["items"]}
    assert [item["position"] for item in batch["items"]] == list(
        range(1, len(files) + 1)
    )
    for name, (_, reason) in BAD.items():
        assert items[name]["state"] == "failed", name
        assert items[name]["reason"] == reason, name
    schema = result_schema(load())
    for name in GOOD:
        assert items[name]["state"] == "succeeded", (name, items[name]["reason"])
        job = client.get(f"/api/v1/annotations/{items[name]['job_id']}").json()
        jsonschema.validate(job["result"], schema)
    failed = client.get(f"/api/v1/annotations/{items['locked.pdf']['job_id']}").json()
    assert failed["reason"] == "encrypted_file"
    assert failed["reason_message"]
    assert failed["result"] is None

    exported = client.get(f"{url}/export?format=jsonl")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in exported.content.decode().splitlines()]
    assert [line["filename"] for line in lines] == [name for name, _ in files]
    by_name = {line["filename"]: line for line in lines}
    assert by_name["memo.docx"]["result"]["document_type"] == "memorandum"
    assert by_name["banks.xlsx"]["result"]["document_type"] == "dataset"
    assert by_name["bomb.docx"]["result"] is None
    assert by_name["bomb.docx"]["reason"] == "file_too_large"

    table = client.get(f"{url}/export?format=csv")
    assert table.status_code == 200
    assert table["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.content.decode())))
    assert len(rows) == len(files)
    row = {item["filename"]: item for item in rows}
    assert row["memo.docx"]["classification"] == "internal"
    assert row["scams.html"]["state"] == "succeeded"
    assert row["scan.pdf"]["reason"] == "needs_ocr"
    assert row["empty.txt"]["document_type"] == ""
