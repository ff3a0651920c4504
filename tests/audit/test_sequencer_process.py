"""``manage.py audit sequencer`` as the process the launcher starts."""

from __future__ import annotations

import os
import sys
import uuid

import pytest
from django.test import override_settings

from appliance.audit import config
from appliance.audit.models import AuditEvent, LogEntry, SequencerState
from appliance.audit.services import record
from tests.conftest import database_url
from tests.support.polling import wait_until
from tests.support.processes import spawn


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sequencer_process_sequences_checkpoints_and_stops(audit_sink):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "appliance.settings.test",
        "APPLIANCE_DATABASE_URL": database_url(),
        "APPLIANCE_AUDIT_SINK_DIR": str(audit_sink),
        "APPLIANCE_AUDIT_CHECKPOINT_ENTRIES": "20",
        "PYTHONUNBUFFERED": "1",
    }
    process = spawn(
        f"sequencer-{uuid.uuid4().hex[:6]}",
        [sys.executable, "manage.py", "audit", "sequencer"],
        env,
    )
    try:
        for i in range(50):
            record("job.submitted", object_type="job", object_id=f"p-{i}")
        wait_until(
            lambda: LogEntry.objects.filter(object_id__startswith="p-").count() == 50,
            timeout=30,
            what="the sequencer to take 50 events",
        )
        log_id = SequencerState.objects.get(id=1).log_id
        with override_settings(AUDIT_SINK_DIR=str(audit_sink)):
            config.reset()
            wait_until(
                lambda: config.sink().sizes(log_id), timeout=30, what="a checkpoint"
            )
    finally:
        process.stop()

    assert process.popen.returncode == 0, process.log_tail()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"audit.sequencer_started", "audit.sequencer_stopped"} <= actions
