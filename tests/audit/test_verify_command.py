"""``manage.py audit verify`` against the log in PostgreSQL, the scheduled
verification, its alert event and the health check."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from appliance.audit.models import AuditEvent, VerificationRun
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record
from appliance.audit.verification import verify_database
from workers.tasks import verify_audit_log


def write(count: int, prefix: str = "job") -> int:
    """Record and sequence ``count`` events; return the tree size (events
    committed by earlier tests may be in the log too)."""
    for i in range(count):
        record("job.submitted", object_type="job", object_id=f"{prefix}-{i}")
    return sequence_now()


def tamper(sql: str) -> None:
    """Change the log the way a database superuser could: triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql)
        cursor.execute("SET LOCAL session_replication_role = origin")


def run_verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_verify_passes_on_a_clean_log():
    size = write(40)
    code, output = run_verify()
    assert code == 0
    assert output.startswith(f"OK: {size} entries checked from 0")


@pytest.mark.django_db
def test_verify_names_the_first_altered_entry():
    write(40)
    tamper("UPDATE audit_log_entry SET object_id = 'job-x' WHERE seq IN (17, 30)")
    code, output = run_verify()
    assert code == 1
    assert "first bad entry 17" in output


@pytest.mark.django_db
def test_verify_names_a_deleted_entry():
    write(40)
    tamper("DELETE FROM audit_log_entry WHERE seq = 9")
    code, output = run_verify("--json")
    result = json.loads(output)
    assert code == 1
    assert result["first_bad_index"] == 9
    assert "entry 9 is missing" in result["problems"][0]


@pytest.mark.django_db
def test_verify_detects_truncation_against_the_sink():
    write(25)
    tamper("DELETE FROM audit_log_entry WHERE seq >= 20")
    tamper("DELETE FROM audit_checkpoint")
    tamper("UPDATE audit_sequencer_state SET size = 20")
    code, output = run_verify("--json")
    assert code == 1
    assert json.loads(output)["first_bad_index"] == 20


@pytest.mark.django_db
def test_verify_since_checkpoint_reads_newer_entries():
    first = write(30)
    second = write(12, prefix="new")
    code, output = run_verify("--since", str(first), "--json")
    result = json.loads(output)
    assert code == 0
    assert result["from_size"] == first
    assert result["checked"] == second - first


@pytest.mark.django_db
def test_uncheckpointed_entries_reported_not_failed():
    write(10)
    record("job.submitted", object_type="job", object_id="late")
    sequence_now(checkpoint=False)
    report = verify_database()
    assert report.ok
    assert report.uncovered == 1


@pytest.mark.django_db
def test_failed_verification_records_an_alert_and_fails_health():
    write(20)
    tamper("UPDATE audit_log_entry SET outcome = 'denied' WHERE seq = 4")

    result = verify_audit_log()

    assert result["ok"] is False
    assert result["first_bad_index"] == 4
    run = VerificationRun.objects.first()
    assert run is not None and run.ok is False
    # The alert is written on the audit connection, in its own transaction.
    alerts = AuditEvent.objects.using("audit")
    assert alerts.filter(action="audit.verification_failed").exists()
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["audit"].startswith("failing (verification failed")


@pytest.mark.django_db
def test_scheduled_verification_passes_and_health_is_ok():
    write(20)
    result = verify_audit_log()
    assert result["ok"] is True
    assert AuditEvent.objects.filter(action="audit.verified").exists()
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["audit"] == "ok"


@pytest.mark.django_db
def test_scheduled_run_resumes_at_verified_size():
    write(20)
    verify_audit_log()
    write(5, prefix="more")
    verify_audit_log()
    latest = VerificationRun.objects.first()
    assert latest is not None
    assert latest.mode == "incremental"
    assert latest.from_size > 0
