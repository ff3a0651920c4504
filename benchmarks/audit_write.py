"""Audit writes under concurrency, with the sequencer process running.

    python benchmarks/audit_write.py [--writers 8] [--seconds 20] [--check]

Each writer is a process that runs one transaction per action, as the
appliance does: BEGIN, a small UPDATE standing for the action, ``record()``,
COMMIT. It times ``record()`` alone (what the audit write adds to the
action's transaction; the commit is not counted). Meanwhile the real
sequencer (``manage.py audit sequencer``) sequences the events; the merge
delay of an event is its ``sequenced_at`` minus its ``occurred_at``, which
also counts the rest of its transaction and the commit, so it is an upper
bound.

Targets (--check exits 1 on a miss): at least 500 committed events/s in all,
record() p99 at most 10 ms, merge delay at most 2 s for every event.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, hardware, percentile, setup, summary, verdict

TARGET_RATE = 500.0
TARGET_P99_MS = 10.0
TARGET_DELAY_S = 2.0


def writer(
    number: int,
    seconds: float,
    start_at: float,
    queue: multiprocessing.Queue[tuple[int, list[float]]],
) -> None:
    setup()
    from django.db import connection, transaction

    from appliance.audit.services import record

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_action (id int PRIMARY KEY, n bigint)"
        )
        cursor.execute(
            "INSERT INTO bench_action VALUES (%s, 0) ON CONFLICT DO NOTHING", [number]
        )
    record("bench.warmup", object_type="bench", object_id=str(number))
    while time.time() < start_at:
        time.sleep(0.01)
    latencies: list[float] = []
    deadline = start_at + seconds
    count = 0
    while time.time() < deadline:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE bench_action SET n = n + 1 WHERE id = %s", [number]
                )
            began = time.perf_counter()
            record(
                "bench.action",
                object_type="bench",
                object_id=f"{number}-{count}",
                details={"writer": number, "n": count},
            )
            latencies.append((time.perf_counter() - began) * 1000)
        count += 1
    queue.put((count, latencies))


def start_sequencer(var: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "appliance.settings.test",
        "APPLIANCE_VAR_DIR": str(var),
        "APPLIANCE_LOG_LEVEL": "warning",
    }
    log = open(var / "sequencer-bench.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "audit", "sequencer"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def merge_delays(started: float) -> tuple[list[float], int]:
    """Delays of the run's events in seconds, and how many are unsequenced."""
    from datetime import UTC, datetime

    from appliance.audit.models import AuditEvent, LogEntry

    since = datetime.fromtimestamp(started, UTC)
    entries = LogEntry.objects.filter(action="bench.action", occurred_at__gte=since)
    delays = [
        (sequenced - occurred).total_seconds()
        for occurred, sequenced in entries.values_list("occurred_at", "sequenced_at")
    ]
    pending = AuditEvent.objects.filter(action="bench.action", occurred_at__gte=since)
    return delays, pending.count() - len(delays)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    var = setup()
    sequencer = start_sequencer(var)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 8.0
    workers = [
        context.Process(target=writer, args=(n, args.seconds, start_at, queue))
        for n in range(args.writers)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=args.seconds + 120) for _ in workers]
    for worker in workers:
        worker.join()
    time.sleep(TARGET_DELAY_S + 1.0)
    sequencer.terminate()
    sequencer.wait(timeout=30)

    committed = sum(count for count, _ in results)
    latencies = [value for _, values in results for value in values]
    rate = committed / args.seconds
    delays, unsequenced = merge_delays(start_at)
    print(f"audit write benchmark on {hardware()}")
    print(
        f"  {args.writers} writers for {args.seconds:.0f} s, one event per transaction"
    )
    print(f"  committed events: {committed} ({rate:.0f}/s)")
    print(f"  record() in the transaction, ms: {summary(latencies)}")
    print(f"  merge delay, s: {summary(delays) if delays else 'none sequenced'}")
    wait = TARGET_DELAY_S + 1
    print(f"  events still unsequenced {wait:.0f} s after the run: {unsequenced}")
    status = verdict(
        [
            (f"rate >= {TARGET_RATE:.0f} events/s", rate >= TARGET_RATE),
            (
                f"record() p99 <= {TARGET_P99_MS} ms",
                percentile(latencies, 0.99) <= TARGET_P99_MS,
            ),
            (
                f"merge delay <= {TARGET_DELAY_S} s for every event",
                bool(delays) and max(delays) <= TARGET_DELAY_S and unsequenced == 0,
            ),
        ]
    )
    return status if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
