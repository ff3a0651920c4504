"""Make the pending table and the log append-only in the database itself.

Row triggers reject UPDATE and DELETE; a statement trigger rejects TRUNCATE,
which row triggers do not see. The test settings alone set
``appliance.audit_allow_truncate`` so that the test runner can empty tables
between tests.

Where the connecting role may create roles, the migration also creates
``appliance_audit_writer`` with SELECT and INSERT on the two tables and
nothing else, and takes UPDATE, DELETE and TRUNCATE on them away from PUBLIC
and from the connecting role. docs/audit.md shows how to run the appliance
as a member of that role. A superuser passes every privilege check, so the
triggers are what holds on a quick-start install, which connects as one.
"""

from typing import Any

from django.db import migrations

TABLES = ("audit_event", "audit_log_entry", "audit_legacy_event")
WRITER_ROLE = "appliance_audit_writer"

TRIGGERS = """
CREATE FUNCTION audit_reject_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('appliance.audit_allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit tables are append-only: TRUNCATE on % is not allowed',
        TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_log_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_log_entry
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_truncate();
CREATE TRIGGER audit_log_entry_no_truncate
    BEFORE TRUNCATE ON audit_log_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_truncate();
CREATE TRIGGER audit_legacy_event_no_truncate
    BEFORE TRUNCATE ON audit_legacy_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_truncate();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS audit_legacy_event_no_truncate ON audit_legacy_event;
DROP TRIGGER IF EXISTS audit_log_entry_no_truncate ON audit_log_entry;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event;
DROP TRIGGER IF EXISTS audit_log_entry_append_only ON audit_log_entry;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event;
DROP FUNCTION IF EXISTS audit_reject_truncate();
"""

CREATE_WRITER_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER_ROLE}') THEN
        CREATE ROLE {WRITER_ROLE} NOLOGIN;
    END IF;
END
$$;
GRANT SELECT, INSERT ON audit_event, audit_log_entry TO {WRITER_ROLE};
GRANT USAGE ON SEQUENCE audit_event_id_seq TO {WRITER_ROLE};
"""

REVOKE_CHANGES = """
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_log_entry, audit_legacy_event
    FROM PUBLIC, CURRENT_USER;
"""


def can_create_roles(cursor: Any) -> bool:
    cursor.execute(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def restrict_privileges(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        if can_create_roles(cursor):
            cursor.execute(CREATE_WRITER_ROLE)
        cursor.execute(REVOKE_CHANGES)


def create_sequencer_state(apps: Any, schema_editor: Any) -> None:
    state = apps.get_model("audit", "SequencerState")
    state.objects.using(schema_editor.connection.alias).get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_tamper_evident_log")]

    operations = [
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
        migrations.RunPython(restrict_privileges, migrations.RunPython.noop),
        migrations.RunPython(create_sequencer_state, migrations.RunPython.noop),
    ]
