"""The analyzer as a whole: chunking, batches, limits and failing closed."""

from __future__ import annotations

import pytest

from appliance.privacy.analyzer import Finding
from appliance.privacy.errors import InputTooLarge
from appliance.privacy.recognizers import AnalysisTimeout
from appliance.privacy.registry import Override, PatternSpec


def values(text: str, findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.entity_type, text[f.start : f.end]) for f in findings]


def test_entity_on_chunk_boundary_found_once(build_analyzer):
    analyzer = build_analyzer(chunk_chars=500, chunk_overlap=120)
    filler = "The committee reviewed the quarterly figures in detail. " * 8
    text = filler[:470] + " SSN 536-22-8190 and Maria Lopez signed. " + filler

    found = values(text, analyzer.analyze(text))

    assert found.count(("US_SSN", "536-22-8190")) == 1
    assert found.count(("PERSON", "Maria Lopez")) == 1


def test_text_over_spacy_limit_is_analyzed(us_analyzer):
    filler = "The plan covers eligible employees of covered employers. "
    text = "Memo for Harriet Quinlan. " + filler * 18_500 + " Call 646-555-0101."

    found = values(text, us_analyzer.analyze(text))

    assert len(text) > 1_000_000
    assert ("PERSON", "Harriet Quinlan") in found
    assert ("PHONE_NUMBER", "646-555-0101") in found


def test_batch_matches_single_texts(us_analyzer):
    texts = [
        "Maria Lopez, SSN 536-22-8190.",
        "No personal data here.",
        "Email jordan.ellis@example.com.",
    ]

    batch = us_analyzer.analyze_batch(texts)

    assert batch == [us_analyzer.analyze(text) for text in texts]


def test_offsets_point_into_original_text(us_analyzer):
    text = "Card \uff14\uff11\uff11\uff11 1111 1111 1111, SSN 536\u200b-22-8190."

    found = values(text, us_analyzer.analyze(text))

    assert ("CREDIT_CARD", "\uff14\uff11\uff11\uff11 1111 1111 1111") in found
    assert ("US_SSN", "536\u200b-22-8190") in found


def test_oversized_text_rejected_with_limit(build_analyzer):
    analyzer = build_analyzer(max_chars=1_000)

    with pytest.raises(InputTooLarge) as raised:
        analyzer.analyze("x" * 1_001)

    assert "1000 characters" in raised.value.message


def test_regex_timeout_fails_analysis(build_analyzer, settings):
    settings.PRIVACY_REGEX_TIMEOUT = 0.05
    # Overlapping alternatives under a quantifier backtrack exponentially
    # on "aaa...b".
    catastrophic = Override(
        name="catastrophic",
        entity="EMPLOYEE_ID",
        patterns=(PatternSpec("nested", r"(a|aa)+c", 0.9),),
    )
    analyzer = build_analyzer(overrides=(catastrophic,))

    with pytest.raises(AnalysisTimeout):
        analyzer.analyze("a" * 40 + "b")
