"""Keep the events written before the tamper-evident log, unchanged.

The first audit table held every field in clear and had no Merkle tree. Its
rows stay where they are, renamed to ``audit_legacy_event`` and still
append-only, so nothing recorded before this migration is lost; the new
``AuditEvent`` model (the pending table of the tamper-evident log) takes the
model's name from here on.
"""

from django.db import migrations

FORWARD = "ALTER TABLE audit_auditevent RENAME TO audit_legacy_event;"
REVERSE = "ALTER TABLE audit_legacy_event RENAME TO audit_auditevent;"


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, REVERSE)],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        )
    ]
