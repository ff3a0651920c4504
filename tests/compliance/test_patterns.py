"""The deterministic layer alone, over the real regulator-quoted samples and
hand-written cases, including legitimate uses of trigger words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.compliance.patterns import match_rule
from appliance.compliance.rulebook import RulebookError, load, parse

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "compliance"
RULEBOOK = load()


def strong_rules(text: str) -> set[str]:
    return {
        hit.rule_id
        for rule in RULEBOOK.rules
        for hit in match_rule(rule, text)
        if hit.strength == "strong"
    }


def any_rules(text: str) -> set[str]:
    return {rule.id for rule in RULEBOOK.rules if match_rule(rule, text)}


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.mark.parametrize(
    ("file", "rule"),
    [
        ("c01_global_predictions_ai_claims.txt", "FIN-004"),
        ("c04_kardashian_emax_instagram_story.txt", "FIN-003"),
        ("c06_ria_conflict_free_claims.txt", "FIN-004"),
        ("c07_ftx_us_fdic_insurance_tweet.txt", "FIN-005"),
        ("c09_hello_digit_app_claims.txt", "FIN-001"),
    ],
)
def test_clear_sample_has_strong_hit(file, rule):
    assert rule in strong_rules(sample(file))


@pytest.mark.parametrize(
    ("file", "rule"),
    [
        ("c02_delphia_ai_data_claims.txt", "FIN-004"),
        ("c05_ria_third_party_rating_claims.txt", "FIN-004"),
        ("c11_titan_crypto_hypothetical_performance.txt", "FIN-002"),
    ],
)
def test_subtle_sample_flagged(file, rule):
    assert rule in any_rules(sample(file))


@pytest.mark.parametrize(
    "file",
    [
        "k02_tsp_c_fund_fact_sheet_2018.txt",
        "k03_sec_investor_bulletin_performance_claims.txt",
    ],
)
def test_compliant_sample_has_no_strong_hit(file):
    assert strong_rules(sample(file)) == set()


def test_every_labelled_sample_covered():
    labels = [
        json.loads(line) for line in (SAMPLES / "index.jsonl").read_text().splitlines()
    ]
    for label in labels:
        text = sample(Path(label["file"]).name)
        flagged = any_rules(text)
        if label["expected_label"].startswith("NON-COMPLIANT"):
            assert flagged, label["id"]
        else:
            assert not strong_rules(text), label["id"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We promise 12% a year, guaranteed.", {"FIN-001"}),
        ("A risk-free way to grow your savings.", {"FIN-001"}),
        ("You can't lose with our fund.", {"FIN-001"}),
        ("Returns are not guaranteed and you may lose money.", set()),
        ("Treasury bills are guaranteed by the U.S. government.", set()),
        ("Our advice is conflict-free.", {"FIN-004"}),
        ("Your stocks are FDIC-insured at our brokerage.", {"FIN-005"}),
        ("This is not financial advice, but buy the MOON token now!", {"FIN-003"}),
    ],
)
def test_hand_written_case(text, expected):
    assert strong_rules(text) == expected


def test_risk_disclosure_cancels_performance_flag():
    plain = "The fund returned 14% last year."
    disclosed = plain + " Past performance does not predict future results."
    assert "FIN-002" in any_rules(plain)
    assert "FIN-002" not in any_rules(disclosed)


def test_invalid_pattern_names_rule():
    data = {
        "id": "broken",
        "version": "1",
        "rules": [
            {
                "id": "X-1",
                "title": "t",
                "severity": "high",
                "question": "q",
                "strong": ["(unclosed"],
            }
        ],
    }
    with pytest.raises(RulebookError, match="rule X-1 has an invalid pattern"):
        parse("broken.yaml", data)
