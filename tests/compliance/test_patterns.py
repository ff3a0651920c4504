"""The deterministic layer alone, over the real regulator-quoted samples and
hand-written cases, including legitimate uses of trigger words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from appliance.compliance.patterns import match_rule
from appliance.compliance.rulebook import RULEBOOK_DIR, Rulebook, RulebookError, parse

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "compliance"


def parse_file(name: str) -> Rulebook:
    return parse(name, yaml.safe_load((RULEBOOK_DIR / name).read_text()))


RULEBOOK = parse_file("financial_communications.yaml")
DATA_RULEBOOK = parse_file("data_handling.yaml")


def strong_rules(text: str, rulebook: Rulebook = RULEBOOK) -> set[str]:
    return {
        hit.rule_id
        for rule in rulebook.rules
        for hit in match_rule(rule, text)
        if hit.strength == "strong"
    }


def any_rules(text: str, rulebook: Rulebook = RULEBOOK) -> set[str]:
    return {rule.id for rule in rulebook.rules if match_rule(rule, text)}


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.mark.parametrize(
    ("file", "rule"),
    [
        ("c01_global_predictions_ai_claims.txt", "FIN-004"),
        ("c04_kardashian_emax_instagram_story.txt", "FIN-003"),
        ("c06_ria_conflict_free_claims.txt", "FIN-008"),
        ("c07_ftx_us_fdic_insurance_tweet.txt", "FIN-005"),
        ("c09_hello_digit_app_claims.txt", "FIN-001"),
        ("c05_ria_third_party_rating_claims.txt", "FIN-007"),
        ("c11_titan_crypto_hypothetical_performance.txt", "FIN-006"),
    ],
)
def test_clear_sample_has_strong_hit(file, rule):
    assert rule in strong_rules(sample(file))


@pytest.mark.parametrize(
    ("file", "rule"),
    [
        ("c02_delphia_ai_data_claims.txt", "FIN-004"),
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
        ("Our advice is conflict-free.", {"FIN-008"}),
        ("We use conflict-free gold in our jewelry.", set()),
        ("Award-winning advice since 1990.", {"FIN-007"}),
        ("Savings earn 4.1% APY; rates may change.", set()),
        ("Our fund returned 31% last year!", {"FIN-002"}),
        ("Our fund returned 31% last year. You could lose money.", set()),
        ("#ad Buy the ZETA token now!", {"FIN-003"}),
        ("#ad Buy the ZETA token now! I was paid $900 for this post.", set()),
        ("Crypto is not FDIC-insured.", set()),
        ("Satisfaction guarantee on our planning fee.", set()),
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
                "instruction": "q",
                "strong": ["(unclosed"],
            }
        ],
    }
    with pytest.raises(RulebookError, match="rule X-1 has an invalid pattern"):
        parse("broken.yaml", data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN 078-05-1120 for the form.", {"DATA-001"}),
        ("Account number 004512378891, please wire today.", {"DATA-001"}),
        ("Your account ending in 4821 is ready.", set()),
        ("Reply with your PIN to unlock the card.", {"DATA-002"}),
        ("We will never ask for your password.", set()),
        ("Forward the client list to my personal gmail.", {"DATA-003"}),
        ("Never forward client data to personal e-mail.", set()),
    ],
)
def test_data_handling_case(text, expected):
    assert strong_rules(text, DATA_RULEBOOK) == expected


def test_context_pattern_required():
    # "#ad" on a post about shoes is no securities endorsement.
    assert any_rules("#ad My new running shoes are great.") == set()


def test_unknown_unless_scope_rejected():
    data = {
        "id": "broken",
        "version": "1",
        "rules": [
            {
                "id": "X-1",
                "title": "t",
                "severity": "high",
                "instruction": "q",
                "unless_scope": "paragraph",
            }
        ],
    }
    with pytest.raises(RulebookError, match="unless_scope 'paragraph'"):
        parse("broken.yaml", data)
