"""The accuracy benchmark's targets on a subset of its cases, with the real
small model: every real regulator-quoted text and every third written case.
benchmarks/compliance_accuracy.py runs the full set."""

from __future__ import annotations

import pytest

from benchmarks.compliance_cases import (
    MAX_REVIEW_SHARE,
    MIN_FAIL_PRECISION,
    MIN_FLAGGED_RECALL,
    load_cases,
    report,
    score,
    subset,
)
from benchmarks.compliance_runner import run_both

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_subset_meets_targets(engine_url):
    cases = subset(load_cases(), every=3)
    assert len({case.rulebook for case in cases}) == 2
    _, full, rule_ids = run_both(cases)
    scores = score(full, rule_ids)
    summary = "\n".join(report("patterns + model", scores))

    assert scores.fail_precision >= MIN_FAIL_PRECISION, summary
    assert scores.flagged_recall >= MIN_FLAGGED_RECALL, summary
    assert scores.review_share < MAX_REVIEW_SHARE, summary
