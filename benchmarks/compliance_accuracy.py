"""Accuracy of the compliance check over labelled texts: per-rule precision
and recall, and overall fail precision, fail+needs_review recall of
non-compliant texts and the share of needs_review verdicts, for patterns
only and for the full pipeline with the model.

    python benchmarks/compliance_accuracy.py [--engine-url URL] [--check]
        [--corpus DIR] [--every N] [--screening] [--show-changes]

Without --engine-url it starts the llama.cpp server with SmolLM2-135M the
tests use (tests/support/processes.py) and stops it at the end. It runs on
Django's test settings with an embedded PostgreSQL of its own under
var/compliance-bench/. ``--check`` exits with status 1 unless the full
pipeline meets every target in benchmarks/compliance_cases.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import audit_common
from benchmarks import compliance_cases as cases_module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engine-url",
        help="OpenAI-compatible base URL of a running llama.cpp server "
        "(default: start one)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=cases_module.CORPUS,
        help="Directory of labelled real texts with index.jsonl "
        "(default: samples/compliance)",
    )
    parser.add_argument(
        "--every",
        type=int,
        default=1,
        help="Use every N-th written case (all corpus texts always)",
    )
    parser.add_argument(
        "--screening",
        action="store_true",
        help="Also ask the model about rules no pattern matched (the "
        "APPLIANCE_COMPLIANCE_MODEL_SCREENING behaviour)",
    )
    parser.add_argument(
        "--show-changes",
        action="store_true",
        help="List the cases whose verdict the model changed",
    )
    parser.add_argument(
        "--check", action="store_true", help="Exit 1 when a target is missed"
    )
    args = parser.parse_args()

    audit_common.setup("compliance-bench")
    from benchmarks.compliance_runner import EngineSession, run_both

    cases = cases_module.subset(cases_module.load_cases(args.corpus), args.every)
    started = time.monotonic()
    with EngineSession(args.engine_url):
        baseline, full, rule_ids = run_both(cases, screening=args.screening)
    elapsed = time.monotonic() - started

    print(f"# {audit_common.hardware()}; {elapsed:.0f} s for {len(cases)} texts")
    patterns = cases_module.score(baseline, rule_ids)
    pipeline = cases_module.score(full, rule_ids)
    for line in cases_module.report("patterns only", patterns):
        print(line)
    for line in cases_module.report("patterns + model", pipeline):
        print(line)
    changes = cases_module.differences(baseline, full)
    print(f"the model changed {len(changes)} verdicts")
    if args.show_changes:
        for line in changes:
            print(line)
    misses = pipeline.misses()
    for miss in misses:
        print(f"MISSED: {miss}")
    return 1 if args.check and misses else 0


if __name__ == "__main__":
    sys.exit(main())
