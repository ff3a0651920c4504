"""``manage.py check_compliance``: the same pipeline from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.core.management import CommandError, call_command

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.compliance.schema import VERDICT_SCHEMA

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "compliance"


def run_command(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    call_command("check_compliance", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_verdict_per_file(make_user, engine_url):
    user = make_user(Role.STAFF)
    files = [
        SAMPLES / "c06_ria_conflict_free_claims.txt",
        SAMPLES / "k03_sec_investor_bulletin_performance_claims.txt",
    ]
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 files did not pass") as raised:
        call_command(
            "check_compliance",
            *map(str, files),
            "--json",
            "--user",
            user.username,
            stdout=out,
        )
    assert raised.value.returncode == 3
    reports = [json.loads(line) for line in out.getvalue().splitlines()]

    assert [report["path"] for report in reports] == [str(path) for path in files]
    for report in reports:
        assert report["state"] == "succeeded"
        jsonschema.validate(report["result"], VERDICT_SCHEMA)
    assert reports[0]["result"]["verdict"] == "fail"
    assert reports[1]["result"]["verdict"] != "fail"
    submitted = AuditEvent.objects.filter(action="job.submitted", actor_id=user.pk)
    assert submitted.count() == 2


def test_array_output_and_passing_exit(make_user, engine_url, tmp_path):
    user = make_user(Role.STAFF)
    plain = tmp_path / "notice.txt"
    plain.write_text("Our branch opens at nine on weekdays.")
    out = io.StringIO()
    call_command(
        "check_compliance",
        str(plain),
        str(SAMPLES / "k02_tsp_c_fund_fact_sheet_2018.txt"),
        "--json-array",
        "--user",
        user.username,
        stdout=out,
    )
    reports = json.loads(out.getvalue())
    assert [report["result"]["verdict"] for report in reports] == ["pass", "pass"]


def test_bad_file_does_not_stop_others(make_user, tmp_path, engine_url):
    user = make_user(Role.STAFF)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 files could not be checked"):
        call_command(
            "check_compliance",
            str(tmp_path / "absent.txt"),
            str(SAMPLES / "c06_ria_conflict_free_claims.txt"),
            "--json",
            "--user",
            user.username,
            stdout=out,
        )
    reports = [json.loads(line) for line in out.getvalue().splitlines()]
    assert reports[0]["error"]["code"] == "unreadable"
    assert reports[1]["result"]["verdict"] == "fail"


def test_unknown_rulebook_rejected(make_user):
    user = make_user(Role.STAFF)
    with pytest.raises(CommandError, match="Unknown rulebook 'nope'"):
        call_command(
            "check_compliance", "x.txt", "--rulebook", "nope", "--user", user.username
        )


def test_unreadable_file_reported(make_user, tmp_path, engine_url):
    user = make_user(Role.STAFF)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 2 files could not be checked"):
        call_command(
            "check_compliance",
            str(tmp_path / "absent.txt"),
            str(empty),
            "--json",
            "--user",
            user.username,
            stdout=out,
        )
    reports = [json.loads(line) for line in out.getvalue().splitlines()]
    assert reports[0]["error"]["code"] == "unreadable"
    assert reports[1]["error"]["code"] == "empty_file"


def test_unknown_user_rejected(roles):
    with pytest.raises(
        CommandError, match="No active appliance account named 'nobody'"
    ):
        call_command("check_compliance", "x.txt", "--user", "nobody")


def test_user_without_submit_role_rejected(make_user):
    auditor = make_user(Role.AUDITOR)
    with pytest.raises(CommandError, match="may not submit jobs"):
        call_command("check_compliance", "x.txt", "--user", auditor.username)


def test_endless_file_stops_at_size_limit(make_user):
    user = make_user(Role.STAFF)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "check_compliance",
            "/dev/zero",
            "--json",
            "--user",
            user.username,
            stdout=out,
        )
    report = json.loads(out.getvalue())
    assert report["error"]["code"] == "file_too_large"
