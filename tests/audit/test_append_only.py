"""The database itself keeps the pending table and the log append-only: a
trigger for everyone, and no UPDATE, DELETE or TRUNCATE privilege for the
restricted writer role."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record

TABLES = ["audit_event", "audit_log_entry"]
WRITER_ROLE = "appliance_audit_writer"


@pytest.fixture
def logged() -> None:
    record("job.submitted", object_type="job", object_id="one")
    sequence_now()


def failure_of(sql: str) -> str:
    """Run ``sql`` in a savepoint and return the error it raised."""
    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    return str(raised.value)


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_trigger_rejects_update(logged, table):
    message = failure_of(f"UPDATE {table} SET action = 'forged'")
    assert "append-only" in message


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_trigger_rejects_delete(logged, table):
    message = failure_of(f"DELETE FROM {table}")
    assert "append-only" in message


# TRUNCATE waits for every open transaction on the table, and in a
# rolled-back test the audit connection keeps one open: commit instead.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", TABLES)
def test_trigger_rejects_truncate_outside_tests(logged, table):
    message = failure_of(
        f"SET LOCAL appliance.audit_allow_truncate = 'off'; TRUNCATE {table} CASCADE"
    )
    assert "append-only" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET action = 'x'", "DELETE FROM {t}", "TRUNCATE {t}"]
)
@pytest.mark.parametrize("table", TABLES)
def test_writer_role_lacks_change_privileges(logged, table, statement):
    sql = f"SET LOCAL ROLE {WRITER_ROLE}; " + statement.format(t=table)
    assert "permission denied" in failure_of(sql)


@pytest.mark.django_db
def test_writer_role_may_insert_and_read(logged):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {WRITER_ROLE}")
        cursor.execute("SELECT count(*) FROM audit_log_entry")
        assert cursor.fetchone()[0] >= 1
        cursor.execute(
            "INSERT INTO audit_event (event_id, occurred_at, action, object_type, "
            "object_id, outcome, request_id, key_scope, key_version, ciphertext) "
            "VALUES (gen_random_uuid(), now(), 'job.submitted', 'job', 'x', "
            "'success', '', '2026-12', 1, '\\x00') RETURNING txid"
        )
        assert cursor.fetchone()[0] > 0
