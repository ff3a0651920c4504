"""A CI-sized run of benchmarks/hr_eval.py: a subset of the real questions
against the real policies, with the real model behind a capturing proxy."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.accounts.roles import Role
from benchmarks.hr_eval import (
    QUESTIONS,
    Tally,
    check_leaks,
    evaluate,
    load_questions,
)
from tests.conftest import use_engine
from tests.support.engine_proxy import EngineProxy

# Answerable questions with personal details, ones without, and ones the
# policies do not cover.
SUBSET = ["q01", "q23", "a04", "u01", "n01", "n06"]


@pytest.fixture
def subset() -> list[dict[str, Any]]:
    by_id = {item["id"]: item for item in load_questions(QUESTIONS, None)}
    return [by_id[name] for name in SUBSET]


# Indexing the corpus and three model answers take minutes on two busy cores.
@pytest.mark.timeout(1200)
def test_subset_meets_targets(corpus, subset, make_user, engine, settings):
    # Short answers keep the run CI-sized; the quoted sentence carries the
    # fact either way.
    settings.HR_ANSWER_MAX_TOKENS = 64
    user = make_user(Role.STAFF)
    tally = Tally()
    original = dict(settings.ENGINE_DEFAULT)
    with EngineProxy(engine.url) as proxy:
        use_engine(proxy.url)
        try:
            for question in subset:
                evaluate(question, user, tally, retrieval_only=False)
        finally:
            use_engine(original["url"], original["model"], original["kind"])
        leaks = check_leaks(subset, proxy.requests)
        requests = len(proxy.requests)

    assert tally.answerable == 3
    assert tally.unanswerable == 3
    assert requests == tally.answered
    assert tally.recalled == tally.answerable, tally.misses
    assert tally.wrong_refusals == 0, tally.misses
    assert tally.correct_refusals == tally.unanswerable, tally.misses
    assert tally.cited_right == tally.answered, tally.misses
    assert tally.correct == tally.answerable, tally.misses
    assert leaks == []
