"""A subset of the labelled corpus, scored as benchmarks/redaction_eval.py
scores all of it: every fault, hard and name case (but the one over
1,000,000 characters) and every third of the rest. The full run, beside stock
Presidio, is ``python benchmarks/redaction_eval.py --check``."""

from __future__ import annotations

from appliance.privacy.registry import Term
from benchmarks.redaction_corpus import (
    DENY_LIST,
    Case,
    Span,
    evaluate,
    load,
    missed_targets,
)


def subset() -> list[Case]:
    cases = load()
    chosen = [
        case
        for index, case in enumerate(cases)
        if case.id != "fault-long"
        and ({"fault", "hard", "names"} & set(case.tags) or index % 3 == 0)
    ]
    return chosen


def test_corpus_subset_meets_targets(build_analyzer):
    analyzer = build_analyzer(
        terms=tuple(Term("deny", n, "CODE_NAME") for n in DENY_LIST)
    )

    def predict(text):
        return [Span(f.entity_type, f.start, f.end) for f in analyzer.analyze(text)]

    cases = subset()
    scores = evaluate(cases, predict)

    assert len(cases) >= 150
    assert dict(scores.errors) == {}
    assert missed_targets(scores) == []
