"""The full tamper suite: randomized attacks on real logs of 10^3, 10^4 and
10^5 entries, each of which must be detected with the first bad entry named.

    python benchmarks/audit_tamper.py [--seed N] [--scale 1.0] [--check]

Per log size it runs every attack class of tests/support/tamper.py: bit
flip, byte edit, deletion at head, middle and tail, insertion, reorder,
replayed entry, tail truncation and full rewrite against the exported
checkpoints, checkpoint rollback and forged checkpoint signature. It then
verifies the untouched log in full and from random checkpoints (false
alarms). Last, a malicious prover alters, drops and pads every element of
inclusion and consistency proofs, against both the appliance's checks and
the standalone verifier's. On the smallest log it also changes single bytes of
an exported bundle, and tampers with the rows in PostgreSQL itself.

Each log is written inside a transaction that is rolled back afterwards, so
the run leaves nothing behind. --check exits 1 unless every attack is
detected, every first bad index is right and no clean run raises an alarm.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.audit_common import hardware, setup, verdict

if TYPE_CHECKING:
    from tests.support.tamper import Log

Check = tuple[str, bool]

PLAN = [(1_000, 20), (10_000, 10), (100_000, 5)]
PROVER_TRIALS = 40
BUNDLE_CHANGES = 1_000
DATABASE_TRIALS = 10
# Exceptions besides Rejected that the standalone verifier's main() reports as
# INVALID.
MALFORMED: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
)


def bundle_changes(rng: random.Random) -> tuple[int, int]:
    """Export a bundle of the current log; return (changed copies, rejected
    by both verifiers)."""
    from django.utils import timezone

    from appliance.audit import config
    from appliance.audit.bundle import export_bundle
    from appliance.audit.bundle_check import BundleInvalid, verify_bundle
    from tests.support import standalone
    from tests.support.tamper import changed_bytes

    now = timezone.now()
    data = export_bundle(
        now - timedelta(hours=2), now + timedelta(hours=1), actor=None
    ).data
    verifier = standalone.load()
    keys = config.trusted_keys()
    pinned = {verifier.key_id_of(key): key for key in keys.values()}
    rejected = 0
    copies = changed_bytes(data, rng, BUNDLE_CHANGES)
    for copy in copies:
        writer_rejects = standalone_rejects = False
        try:
            verify_bundle(copy, keys)
        except BundleInvalid:
            writer_rejects = True
        try:
            verifier.check_bundle(copy, pinned, None)
        except (
            verifier.Rejected,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            IndexError,
        ):
            standalone_rejects = True
        rejected += writer_rejects and standalone_rejects
    return len(copies), rejected


def database_trials(rng: random.Random, size: int) -> tuple[int, int]:
    """Alter rows in PostgreSQL (triggers off, as a superuser could) and run
    the real verifier on them; return (trials, detected at the right entry)."""
    from django.db import connection, transaction

    from appliance.audit.verification import verify_database

    statements = [
        "UPDATE audit_log_entry SET object_id = object_id || 'x' WHERE seq = %s",
        "UPDATE audit_log_entry SET ciphertext = ciphertext || '\\x00'::bytea "
        "WHERE seq = %s",
        "DELETE FROM audit_log_entry WHERE seq = %s",
        "UPDATE audit_log_entry SET occurred_at = occurred_at "
        "+ interval '1 microsecond' WHERE seq = %s",
    ]
    right = 0
    for _ in range(DATABASE_TRIALS):
        at = rng.randrange(size)
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(rng.choice(statements), [at])
            cursor.execute("SET LOCAL session_replication_role = origin")
        report = verify_database(full=True)
        transaction.savepoint_rollback(sid)
        right += (not report.ok) and report.first_bad_index == at
    return DATABASE_TRIALS, right


def attack_checks(log: Log, trials: int, rng: random.Random) -> list[Check]:
    from tests.support.tamper import false_alarms, run_attacks

    checks = []
    for name, tally in run_attacks(log, trials, rng).items():
        print(
            f"  {name:20s} detected {tally.detected}/{tally.trials}, "
            f"first bad index right {tally.right_index}/{tally.trials}"
        )
        for miss in tally.misses:
            print(f"    miss: {miss}")
        checks.append((f"{log.size}: {name}", tally.perfect))
    alarms = false_alarms(log, rng, trials=trials)
    print(f"  clean runs with an alarm: {alarms}/{trials + 1}")
    checks.append((f"{log.size}: no false alarm", alarms == 0))
    return checks


def prover_checks(log: Log, rng: random.Random) -> list[Check]:
    from appliance.audit.merkle import verify_consistency, verify_inclusion
    from tests.support import standalone
    from tests.support.tamper import malicious_prover

    prover = malicious_prover(
        log,
        rng,
        PROVER_TRIALS,
        [verify_inclusion, standalone.inclusion],
        [verify_consistency, standalone.consistency],
    )
    print(
        f"  malicious prover: {prover.rejected}/{prover.altered} altered proofs "
        f"rejected, {prover.honest_accepted}/{prover.proofs} honest ones accepted"
    )
    perfect = (
        prover.rejected == prover.altered and prover.honest_accepted == prover.proofs
    )
    return [(f"{log.size}: every altered proof rejected", perfect)]


def extra_checks(log: Log, rng: random.Random) -> list[Check]:
    copies, rejected = bundle_changes(rng)
    print(f"  bundles with one byte changed, rejected by both: {rejected}/{copies}")
    done, right = database_trials(rng, log.size)
    print(f"  tampering in PostgreSQL found at the right entry: {right}/{done}")
    return [
        (f"{log.size}: every changed bundle rejected", rejected == copies),
        (f"{log.size}: database tampering found", right == done),
    ]


def run_size(size: int, trials: int, rng: random.Random, first: bool) -> list[Check]:
    from django.db import transaction
    from django.test import override_settings

    from appliance.audit import config, datakeys
    from tests.support.tamper import write_log

    with tempfile.TemporaryDirectory() as sink, override_settings(AUDIT_SINK_DIR=sink):
        config.reset()
        datakeys.reset_caches()
        with transaction.atomic():
            started = time.perf_counter()
            log = write_log(size, rng, max_chunk=max(size // 20, 50))
            print(
                f"\nlog of {log.size:,} entries, {len(log.sink)} checkpoints "
                f"(written in {time.perf_counter() - started:.0f} s)"
            )
            started = time.perf_counter()
            checks = attack_checks(log, trials, rng) + prover_checks(log, rng)
            if first:
                checks += extra_checks(log, rng)
            print(f"  verified in {time.perf_counter() - started:.0f} s")
            transaction.set_rollback(True)
    config.reset()
    datakeys.reset_caches()
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Multiply the trials per class."
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    setup("bench-tamper")
    rng = random.Random(args.seed)
    print(f"audit tamper suite on {hardware()}, seed {args.seed}")
    checks: list[Check] = []
    for index, (size, trials) in enumerate(PLAN):
        checks += run_size(size, max(1, round(trials * args.scale)), rng, index == 0)
    print()
    status = verdict(checks)
    return status if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
