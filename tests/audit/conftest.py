"""Fixtures for the audit log's tests: a checkpoint sink of the test's own,
so that checkpoints of a rolled-back test never meet the next test's log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from appliance.audit import config, datakeys


@pytest.fixture(autouse=True)
def audit_sink(tmp_path: Path) -> Iterator[Path]:
    original = settings.AUDIT_SINK_DIR
    sink = tmp_path / "audit-sink"
    settings.AUDIT_SINK_DIR = str(sink)
    config.reset()
    datakeys.reset_caches()
    yield sink
    settings.AUDIT_SINK_DIR = original
    config.reset()
    datakeys.reset_caches()
