"""Audit writes under concurrency, with the sequencer process running.

    python benchmarks/audit_write.py [--writers 8] [--seconds 20] [--check]

Each writer is a process that runs one transaction per action, as the
appliance does: BEGIN, a small UPDATE standing for the action, ``record()``,
COMMIT. It times ``record()`` alone: what the audit write adds to the
action's transaction, without the commit. Meanwhile the real sequencer
(``manage.py audit sequencer``) sequences the events. The merge delay of an
event is its ``sequenced_at`` minus its ``occurred_at``. That also counts the
rest of its transaction and the commit, so it is an upper bound.

Two phases: the writers first run flat out (capacity), then paced together
at the target rate of 500 events/s, where the latency and the merge delay
are measured. Targets (--check exits 1 on a miss): capacity at least 500
committed events/s; at 500/s, the paced writers keep up, record() p99 is at
most 10 ms and every event is sequenced within 2 s.
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

from benchmarks.audit_common import ROOT, hardware, percentile, setup, summary, verdict

TARGET_RATE = 500.0
TARGET_P99_MS = 10.0
TARGET_DELAY_S = 2.0


def writer(
    number: int,
    seconds: float,
    start_at: float,
    rate: float | None,
    queue: multiprocessing.Queue[tuple[int, list[float]]],
) -> None:
    """Run actions until ``seconds`` have passed; ``rate`` (events/s for this
    writer) paces them on a fixed schedule, None runs flat out."""
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
        if rate is not None:
            slot = start_at + count / rate
            if slot > time.time():
                time.sleep(slot - time.time())
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE bench_action SET n = n + 1 WHERE id = %s", [number]
                )
            began = time.perf_counter()
            record(
                "bench.action",
                object_type="bench",
                object_id=f"{number}-{count}-{start_at:.0f}",
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


def merge_delays(started: float, ended: float) -> tuple[list[float], int]:
    """Delays of the events that occurred in [started, ended), in seconds,
    and how many of them are still unsequenced."""
    from datetime import UTC, datetime

    from appliance.audit.models import AuditEvent, LogEntry

    window = {
        "action": "bench.action",
        "occurred_at__gte": datetime.fromtimestamp(started, UTC),
        "occurred_at__lt": datetime.fromtimestamp(ended, UTC),
    }
    delays = [
        (sequenced - occurred).total_seconds()
        for occurred, sequenced in LogEntry.objects.filter(**window).values_list(
            "occurred_at", "sequenced_at"
        )
    ]
    return delays, AuditEvent.objects.filter(**window).count() - len(delays)


def run_phase(
    writers: int, seconds: float, total_rate: float | None
) -> tuple[float, int, list[float]]:
    """Run the writers; return the start time, the committed count and the
    record() latencies in ms."""
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[int, list[float]]] = context.Queue()
    start_at = time.time() + 8.0
    rate = total_rate / writers if total_rate else None
    processes = [
        context.Process(target=writer, args=(n, seconds, start_at, rate, queue))
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    committed = sum(count for count, _ in results)
    return start_at, committed, [value for _, values in results for value in values]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    var = setup()
    sequencer = start_sequencer(var)
    try:
        _, flat_count, flat_latencies = run_phase(args.writers, args.seconds / 2, None)
        paced_start, paced_count, latencies = run_phase(
            args.writers, args.seconds, TARGET_RATE
        )
        time.sleep(TARGET_DELAY_S + 1.0)
    finally:
        sequencer.terminate()
        sequencer.wait(timeout=30)

    capacity = flat_count / (args.seconds / 2)
    paced_rate = paced_count / args.seconds
    delays, unsequenced = merge_delays(paced_start, paced_start + args.seconds)
    print(f"audit write benchmark on {hardware()}")
    print(f"  {args.writers} writers, one event per transaction, sequencer running")
    print(
        f"  flat out for {args.seconds / 2:.0f} s: {flat_count} committed "
        f"({capacity:.0f}/s)"
    )
    print(f"    record() in the transaction, ms: {summary(flat_latencies)}")
    print(
        f"  paced at {TARGET_RATE:.0f}/s for {args.seconds:.0f} s: "
        f"{paced_count} committed ({paced_rate:.0f}/s)"
    )
    print(f"    record() in the transaction, ms: {summary(latencies)}")
    print(f"    merge delay, s: {summary(delays) if delays else 'none sequenced'}")
    print(f"    unsequenced {TARGET_DELAY_S + 1:.0f} s after the run: {unsequenced}")
    p99 = percentile(latencies, 0.99)
    status = verdict(
        [
            (f"capacity >= {TARGET_RATE:.0f} events/s", capacity >= TARGET_RATE),
            (
                f"paced writers keep up (>= {0.97 * TARGET_RATE:.0f}/s)",
                paced_rate >= 0.97 * TARGET_RATE,
            ),
            (
                f"record() p99 <= {TARGET_P99_MS} ms at {TARGET_RATE:.0f}/s",
                p99 <= TARGET_P99_MS,
            ),
            (
                f"every event sequenced within {TARGET_DELAY_S} s",
                bool(delays) and max(delays) <= TARGET_DELAY_S and unsequenced == 0,
            ),
        ]
    )
    return status if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
