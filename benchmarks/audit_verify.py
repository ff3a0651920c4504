"""Verification time on a log of a million entries read from PostgreSQL.

    python benchmarks/audit_verify.py [--entries 1000000] [--check]

The first run writes the log through ``record()`` and the sequencer, with a
checkpoint every 1,000 entries as in production. That takes several minutes
on two cores, so later runs reuse the log from var/bench-verify/. Each run then adds
10,000 entries after a checkpoint and times:

- full verification: every entry read from PostgreSQL, encoded, hashed and
  compared with the sink's checkpoints (``verify_database(full=True)``);
- verification since the last checkpoint: the 10,000 new entries only.

It also prints how fast this machine hashes, to compare runs elsewhere.
Targets (--check exits 1 on a miss): full <= 15 s, since the checkpoint
<= 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.audit_common import hardware, setup, verdict

TARGET_FULL_S = 15.0
TARGET_SINCE_S = 1.0
INCREMENT = 10_000
CHUNK = 10_000


def grow(count: int) -> int:
    """Record ``count`` events in transactions of CHUNK and sequence them
    with a checkpoint every 1,000 entries; return the tree size."""
    from django.db import transaction
    from django.test import override_settings

    from appliance.audit.sequencer import sequence_now
    from appliance.audit.services import record

    size = 0
    with override_settings(AUDIT_CHECKPOINT_ENTRIES=1000, AUDIT_SEQUENCER_BATCH=1000):
        for start in range(0, count, CHUNK):
            with transaction.atomic():
                for i in range(start, min(count, start + CHUNK)):
                    record(
                        "bench.action",
                        object_type="job",
                        object_id=f"job-{i}",
                        details={"n": i, "chars": i % 5000},
                    )
            size = sequence_now(include_own=False)
    return size


def hashing_rate() -> float:
    """Leaf hashes per second for 250-byte leaves, as a machine yardstick."""
    data = b"x" * 250
    started = time.perf_counter()
    for _ in range(200_000):
        hashlib.sha256(b"\x00" + data).digest()
    return 200_000 / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    setup("bench-verify")

    from appliance.audit.models import SequencerState
    from appliance.audit.verification import verify_database

    size = SequencerState.objects.get(id=1).size
    if size < args.entries:
        started = time.perf_counter()
        size = grow(args.entries - size)
        took = time.perf_counter() - started
        print(f"wrote the log up to {size} entries in {took:.0f} s")
    before = size
    size = grow(INCREMENT)

    started = time.perf_counter()
    full = verify_database(full=True)
    full_seconds = time.perf_counter() - started
    started = time.perf_counter()
    since = verify_database(full=False, since=before)
    since_seconds = time.perf_counter() - started

    print(f"audit verification benchmark on {hardware()}")
    print(f"  machine yardstick: {hashing_rate():,.0f} leaf hashes/s")
    print(
        f"  full: {full.checked:,} entries in {full_seconds:.2f} s "
        f"({full.checked / full_seconds:,.0f}/s), ok={full.ok}"
    )
    print(
        f"  since checkpoint {since.from_size:,}: {since.checked:,} entries in "
        f"{since_seconds:.3f} s, ok={since.ok}"
    )
    status = verdict(
        [
            ("both verifications pass", full.ok and since.ok),
            (
                f"full log of >= {args.entries:,} entries checked",
                full.checked >= args.entries,
            ),
            (f"full <= {TARGET_FULL_S} s", full_seconds <= TARGET_FULL_S),
            (
                f"{INCREMENT:,} since the checkpoint checked",
                since.checked == size - before,
            ),
            (
                f"since the checkpoint <= {TARGET_SINCE_S} s",
                since_seconds <= TARGET_SINCE_S,
            ),
        ]
    )
    return status if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
