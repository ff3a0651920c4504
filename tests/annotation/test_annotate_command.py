"""manage.py annotate over a directory, with the real model."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from appliance.accounts.roles import Role
from appliance.annotation.models import Batch
from tests.support import documents

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")


@pytest.mark.django_db
def test_directory_annotated_and_exported(make_user, engine_url, tmp_path):
    user = make_user(Role.STAFF)
    folder = tmp_path / "records"
    (folder / "memos").mkdir(parents=True)
    (folder / "memos" / "memo.docx").write_bytes(documents.docx_of(MEMO))
    (folder / "broken.pdf").write_bytes(documents.corrupt_pdf())
    (folder / ".hidden.txt").write_text("Not a record.")
    target = tmp_path / "out.csv"
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as error:
        call_command(
            "annotate",
            str(folder),
            "--json",
            "--export",
            str(target),
            "--user",
            user.username,
            stdout=out,
            stderr=err,
        )

    assert "1 of 2 files could not be annotated" in str(error.value)
    reports = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [report["path"].rsplit("/", 1)[-1] for report in reports] == [
        "broken.pdf",
        "memo.docx",
    ]
    assert reports[0]["reason"] == "corrupt_file"
    assert reports[1]["result"]["document_type"] == "memorandum"
    assert "[2/2]" in err.getvalue()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [row["state"] for row in rows] == ["failed", "succeeded"]
    assert Batch.objects.get(owner=user).total == 2


@pytest.mark.django_db
def test_unknown_user_and_export_suffix(make_user, tmp_path):
    user = make_user(Role.STAFF)
    path = tmp_path / "a.txt"
    path.write_text("Text.")

    with pytest.raises(CommandError, match="No active appliance account"):
        call_command("annotate", str(path), "--user", "nobody")
    with pytest.raises(CommandError, match=r"\.jsonl or a \.csv"):
        call_command(
            "annotate", str(path), "--user", user.username, "--export", "out.xls"
        )
