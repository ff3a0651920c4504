"""Shared set-up for the audit benchmarks: Django with the test settings on
an embedded PostgreSQL of their own under var/<name>/ (migrated on first
use), keys and the checkpoint sink beside it."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(name: str = "bench") -> Path:
    """Configure and start Django for a benchmark; return its var directory."""
    var = ROOT / "var" / name
    os.environ["DJANGO_SETTINGS_MODULE"] = "appliance.settings.test"
    os.environ["APPLIANCE_VAR_DIR"] = str(var)
    os.environ.setdefault("APPLIANCE_LOG_LEVEL", "warning")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return var


def hardware() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.2f}, p99 {percentile(values, 0.99):.2f}, "
        f"max {max(values):.2f}, mean {statistics.fmean(values):.2f}"
    )


def verdict(checks: list[tuple[str, bool]]) -> int:
    """Print each target's result; return the exit status for --check."""
    failed = [name for name, ok in checks if not ok]
    for name, ok in checks:
        print(f"  [{'ok' if ok else 'MISS'}] {name}")
    return 1 if failed else 0
