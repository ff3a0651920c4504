"""The analyzer's recognizers, as tables of texts and what must (or must
not) be found in them. Values are invented."""

from __future__ import annotations

import pytest

from appliance.privacy.analyzer import Analyzer
from appliance.privacy.registry import Term

FOUND = [
    ("Maria Lopez submitted the form.", "PERSON", "Maria Lopez"),
    ("Dr. Okafor approved the leave.", "PERSON", "Okafor"),
    ("Employee: GRACE NAKAMURA", "PERSON", "GRACE NAKAMURA"),
    ("Dear Margaret\nO'Connell,", "PERSON", "Margaret\nO'Connell"),
    ("The portrait of Dr. Ludwig van Beethoven", "PERSON", "Ludwig van Beethoven"),
    ("Meet Anna at the café.", "PERSON", "Anna"),
    ("maria.lopez@example.com", "EMAIL_ADDRESS", "maria.lopez@example.com"),
    ("dana [at] example [dot] com", "EMAIL_ADDRESS", "dana [at] example [dot] com"),
    ("Call (212) 555-0147 today", "PHONE_NUMBER", "(212) 555-0147"),
    ("Reach me at (519)-236-2723x341", "PHONE_NUMBER", "(519)-236-2723x341"),
    ("London: +44 20 7946 0958", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("SSN 536-22-8190 on file", "US_SSN", "536-22-8190"),
    ("SSN 536 22 8190 on file", "US_SSN", "536 22 8190"),
    ("my social security number is 536228190", "US_SSN", "536228190"),
    ("My SSN is 987-65-4321.", "US_SSN", "987-65-4321"),
    ("card 4111 1111 1111 1111 expires", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("credit card 1234-5678-1234-5678", "CREDIT_CARD", "1234-5678-1234-5678"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
    ("login from 203.0.113.58 failed", "IP_ADDRESS", "203.0.113.58"),
    ("ITIN 912-78-4410", "US_ITIN", "912-78-4410"),
    ("routing number 021000021", "ABA_ROUTING_NUMBER", "021000021"),
    ("account number 004829173655", "ACCOUNT_NUMBER", "004829173655"),
    ("Employee ID E204311 is locked", "EMPLOYEE_ID", "E204311"),
    ("badge number 77120", "EMPLOYEE_ID", "77120"),
    ("passport number 531946028", "US_PASSPORT", "531946028"),
    (
        "lives at 1428 Elm Street, Springfield, IL 62704.",
        "STREET_ADDRESS",
        "1428 Elm Street, Springfield, IL 62704",
    ),
    (
        "Send to P.O. Box 4412, Austin, TX 78701",
        "STREET_ADDRESS",
        "P.O. Box 4412, Austin, TX 78701",
    ),
    ("DOB: 03/14/1985", "DATE_OF_BIRTH", "03/14/1985"),
    (
        "BTC wallet 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "CRYPTO",
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    ),
    (
        "Send to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "CRYPTO",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ),
    ("Call me at 555-0147 tonight", "PHONE_NUMBER", "555-0147"),
    ("Born 12 July 1979 in Leeds", "DATE_OF_BIRTH", "12 July 1979"),
    (
        "Aisha was diagnosed with type 2 diabetes.",
        "HEALTH_CONDITION",
        "type 2 diabetes",
    ),
    ("SSN 536\u200b-22-8190", "US_SSN", "536\u200b-22-8190"),
    (
        "card \uff14\uff11\uff11\uff11 1111 1111 1111",
        "CREDIT_CARD",
        "\uff14\uff11\uff11\uff11 1111 1111 1111",
    ),
]

NOT_FOUND = [
    ("The policy is effective 07/01/2025.", "DATE_OF_BIRTH"),
    ("Benefits must be elected within 30 days.", "DATE_OF_BIRTH"),
    ("Hired 5/1/2010, born in the spring.", "DATE_OF_BIRTH"),
    ("Our S3 buckets and EKS clusters are in us-east-1.", "PERSON"),
    ("Attach Form W-2 and the 1099-INT.", "PERSON"),
    ("6033391\n6058722", "PERSON"),
    ("Version 10.2.0.1 of the tool.", "IP_ADDRESS"),
    ("Correlation id 110bcd25-a55d-453a-8046-1297901ea002", "PHONE_NUMBER"),
    ("Order number 2125550147 shipped.", "PHONE_NUMBER"),
    ("Room 555-0147 is booked.", "PHONE_NUMBER"),
    ("The plan covers cancer screening and diabetes education.", "HEALTH_CONDITION"),
    ("The reference 1234567890123456 is not a card.", "CREDIT_CARD"),
    ("Will the new schedule affect the night shift?", "PERSON"),
    ("We have 3 Green initiatives this year.", "STREET_ADDRESS"),
    ("Employees with a serious health condition may take leave.", "HEALTH_CONDITION"),
]


def found(analyzer: Analyzer, text: str) -> set[tuple[str, str]]:
    return {(f.entity_type, text[f.start : f.end]) for f in analyzer.analyze(text)}


@pytest.mark.parametrize(("text", "entity_type", "value"), FOUND)
def test_recognizer_finds(us_analyzer, text, entity_type, value):
    assert (entity_type, value) in found(us_analyzer, text)


@pytest.mark.parametrize(("text", "entity_type"), NOT_FOUND)
def test_recognizer_leaves(us_analyzer, text, entity_type):
    assert entity_type not in {kind for kind, _ in found(us_analyzer, text)}


def test_email_not_split_into_url_or_person(us_analyzer):
    text = "Send it to harold.smith@mail.example.com today."

    assert found(us_analyzer, text) == {
        ("EMAIL_ADDRESS", "harold.smith@mail.example.com")
    }


def test_us_deployment_has_no_nhs_numbers(us_analyzer):
    # 303-863-9141 passes the NHS mod-11 check.
    text = "Please call 303-863-9141 about the claim."

    assert found(us_analyzer, text) == {("PHONE_NUMBER", "303-863-9141")}


def test_uk_deployment_finds_nhs_numbers(build_analyzer):
    analyzer = build_analyzer(countries=("gb",))
    text = "Patient NHS number 943 476 5919 on the referral."

    assert ("UK_NHS", "943 476 5919") in found(analyzer, text)


def test_uk_deployment_keeps_us_phone_a_phone(build_analyzer):
    analyzer = build_analyzer(countries=("gb",))
    text = "Please call 303-863-9141 about the claim."

    assert found(analyzer, text) == {("PHONE_NUMBER", "303-863-9141")}


def test_deny_list_terms_are_redacted(build_analyzer):
    analyzer = build_analyzer(terms=(Term("deny", "Project Halcyon", "CODE_NAME"),))

    assert ("CODE_NAME", "project halcyon") in found(
        analyzer, "The project halcyon freeze ends in May."
    )


def test_allow_list_terms_are_kept(build_analyzer):
    analyzer = build_analyzer(terms=(Term("allow", "Maria Lopez"),))

    assert found(analyzer, "Maria Lopez is our product name.") == set()


def test_name_spreads_to_later_mentions(us_analyzer):
    text = "Maria Lopez filed the claim. Later, Lopez called to check on it."

    assert ("PERSON", "Lopez") in found(us_analyzer, text)


def test_pathological_strings_are_redacted_not_rejected(us_analyzer):
    texts = [
        "Contact ops@example.com " + "." * 4000,
        "a." * 2000 + " SSN 536-22-8190",
        "(" * 1500 + "Dana Whitfield" + ")" * 1500,
        "[{(<" * 1000 + " call 646-555-0101",
    ]
    results = [found(us_analyzer, text) for text in texts]

    assert ("EMAIL_ADDRESS", "ops@example.com") in results[0]
    assert ("US_SSN", "536-22-8190") in results[1]
    assert ("PHONE_NUMBER", "646-555-0101") in results[3]
