"""Remember the last pending row the sequencer took, not only its transaction.

With the (transaction id, id) of the last row taken, the sequencer reads the
rows after it through the (txid, id) index and needs no anti-join against
the log, whose plan degraded badly when the table statistics were stale.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_append_only_log")]

    operations = [
        migrations.RenameField(
            model_name="sequencerstate", old_name="horizon", new_name="last_txid"
        ),
        migrations.AddField(
            model_name="sequencerstate",
            name="last_pending_id",
            field=models.BigIntegerField(default=0),
        ),
    ]
