"""The tamper suite's fast subset: a log of 1,000 entries written through
the real writer and sequencer, attacked a few times per class. The full run
(10^3 to 10^5 entries, more trials) is benchmarks/audit_tamper.py."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings

from appliance.audit import config, datakeys
from appliance.audit.merkle import verify_consistency, verify_inclusion
from tests.support import standalone
from tests.support.tamper import (
    ATTACKS,
    Log,
    Tally,
    false_alarms,
    malicious_prover,
    run_attacks,
    write_log,
)

TRIALS = 4
# The log is built once for the module; marking the tests makes pytest-django
# set up the test database for it.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def log(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Log]:
    """A log written inside a transaction that is rolled back once read."""
    sink = tmp_path_factory.mktemp("tamper-sink")
    with django_db_blocker.unblock(), override_settings(AUDIT_SINK_DIR=str(sink)):
        config.reset()
        datakeys.reset_caches()
        with transaction.atomic():
            built = write_log(1000, random.Random(1000), max_chunk=150)
            transaction.set_rollback(True)
    config.reset()
    datakeys.reset_caches()
    yield built


@pytest.fixture(autouse=True)
def audit_sink(tmp_path: Path) -> Path:
    """These tests touch neither the database nor the sink."""
    return tmp_path


def test_log_has_many_checkpoints(log):
    # The key-creation event the first write records may join the log too.
    assert log.size >= 1000
    assert len(log.sink) >= 5
    assert len(log.stored) == len(log.sink)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_detected_at_first_bad_entry(log, attack):
    tally = run_attacks_for(log, attack)
    assert tally.detected == TRIALS, tally.misses
    assert tally.right_index == TRIALS, tally.misses


def run_attacks_for(log: Log, attack: str) -> Tally:
    rng = random.Random(f"{attack}-{log.size}")
    return run_attacks(log, TRIALS, rng, names=[attack])[attack]


def test_clean_log_raises_no_alarm(log):
    assert false_alarms(log, random.Random(3), trials=10) == 0


def test_malicious_prover_is_rejected_by_both_verifiers(log):
    tally = malicious_prover(
        log,
        random.Random(5),
        trials=10,
        inclusion_checks=[verify_inclusion, standalone.inclusion],
        consistency_checks=[verify_consistency, standalone.consistency],
    )
    assert tally.honest_accepted == tally.proofs
    assert tally.altered > 0
    assert tally.rejected == tally.altered
