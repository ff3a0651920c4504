"""Names of people, by kind: what must be found whole and what must stay in
the text. All names are invented; the organizations, places and policies
are public."""

from __future__ import annotations

import pytest

from appliance.privacy.analyzer import Analyzer
from appliance.privacy.recognizers import wordlists
from appliance.privacy.redaction import redact


def people(analyzer: Analyzer, text: str) -> list[str]:
    return [
        text[f.start : f.end]
        for f in analyzer.analyze(text)
        if f.entity_type == "PERSON"
    ]


ORIGINS = [
    ("Chinedu Okeke approved the loan.", "Chinedu Okeke"),
    ("The memo from Kwame Asamoah arrived late.", "Kwame Asamoah"),
    ("Deepika Raghunathan opened a savings account.", "Deepika Raghunathan"),
    ("Nguyen Thi Mai signed the lease.", "Nguyen Thi Mai"),
    ("Youssef Amrani requested a refund.", "Youssef Amrani"),
    ("Miroslav Novotny returned the company card.", "Miroslav Novotny"),
    ("Guadalupe Ramírez Soto joined the team.", "Guadalupe Ramírez Soto"),
    ("Temitope Oyebanji guarantees high returns.", "Temitope Oyebanji"),
    ("The file of Seo-yeon Jang is incomplete.", "Seo-yeon Jang"),
]

PARTICLES = [
    ("Lars van den Berg approved the budget.", "Lars van den Berg"),
    ("Ludwig van Beethoven was born in Bonn.", "Ludwig van Beethoven"),
    ("Ana María de los Santos moved to Denver.", "Ana María de los Santos"),
    ("The signatory is Karim bin Hamad.", "Karim bin Hamad"),
    ("Marie-Claire Fontaine chairs the audit.", "Marie-Claire Fontaine"),
    ("Siobhán O'Rourke approved the claim.", "Siobhán O'Rourke"),
    ("Please copy Jean-Pierre Lemaire on it.", "Jean-Pierre Lemaire"),
]

CUES = [
    ("Please call Oladipo Fasanmi about the fund.", "Oladipo Fasanmi"),
    ("Email Chiara Bellucci the revised report.", "Chiara Bellucci"),
    ("cc Oleksandr Kravets on the reply.", "Oleksandr Kravets"),
    ("Please thank Ayodele Bamidele for the help.", "Ayodele Bamidele"),
    ("Per Ingrid Solberg, the offer stands.", "Ingrid Solberg"),
    ("The forms came from Farhan Qureshi today.", "Farhan Qureshi"),
    ("Ask Zodwa whether the card arrived.", "Zodwa"),
    ("We spoke with Dumisani Ngcobo on Monday.", "Dumisani Ngcobo"),
]

ROLES = [
    ("Our advisor Nnamdi Ezeh will call you.", "Nnamdi Ezeh"),
    ("The patient, Bukola Adewale, declined.", "Bukola Adewale"),
    ("My colleague Rashmi Iyer has the keys.", "Rashmi Iyer"),
    ("The nurse Thulani Zulu filed the report.", "Thulani Zulu"),
    ("Employee Agnieszka Nowak asked for leave.", "Agnieszka Nowak"),
    ("Your account manager, Oyebode Akande, will phone.", "Oyebode Akande"),
]

SIGNATURES = [
    ("Kind regards,\n\nAdaora Nwachukwu\nAnalyst", "Adaora Nwachukwu"),
    ("Dear Kenji and Obinna,\nThe statements are ready.", "Obinna"),
    ("Dear Kenji and Obinna,\nThe statements are ready.", "Kenji"),
    ("Thanks,\nSeun", "Seun"),
    ("Sincerely,\nMarisol Echeverría | Client Services", "Marisol Echeverría"),
    ("Hello Tsholofelo, the form is attached.", "Tsholofelo"),
]

FAMILY_FIRST = [
    ("Name: Adebayo, Funmilayo\nDate: 04/03/2025", "Adebayo, Funmilayo"),
    ("Attendees: Iyer, Rashmi; Novak, Petra", "Iyer, Rashmi"),
    ("Attendees: Iyer, Rashmi; Novak, Petra", "Novak, Petra"),
    ("Approver: NWOSU, CHIDINMA", "NWOSU, CHIDINMA"),
]

CASES = [
    ("PLEASE EMAIL CHIDI OKAFOR BEFORE NOON.", "CHIDI OKAFOR"),
    ("john smith", "john smith"),
    ("kevin o'brien", "kevin o'brien"),
    ("please call john tomorrow", "john"),
    ("Contact: mary-jane watson-parker", "mary-jane watson-parker"),
    ("Priya", "Priya"),
    ("john", "john"),
    ("my name is ravi shankar and i lost my card", "ravi shankar"),
    ("hi priya, thanks for the update", "priya"),
    ("can you ask folake adeyemi to sign", "folake adeyemi"),
]

BREAKS = [
    ("Please call Temitope\nAdeleye about the loan.", "Temitope\nAdeleye"),
    ("Our advisor Sibusiso\nMahlangu will phone you.", "Sibusiso\nMahlangu"),
    ("The form was signed by Halina\nWójcik on Monday.", "Halina\nWójcik"),
]

FIELDS = [
    ('{"name": "Olusegun Adebisi", "plan": "gold"}', "Olusegun Adebisi"),
    ("first_name=Chidinma&last_name=Okeke", "Chidinma"),
    ('{"customer_name": "tunde bakare"}', "tunde bakare"),
    ('To: "Adeyemi, Olusola" <o.adeyemi@example.com>', "Adeyemi, Olusola"),
    ("From: Chiamaka Eze <c.eze@example.com>", "Chiamaka Eze"),
    ("Adeyemi Olusola", "Adeyemi Olusola"),
]

SENTENCE_PLACES = [
    ("The card of Olumide Bankole's wife was replaced.", "Olumide Bankole"),
    ("Olusola, please call me back.", "Olusola"),
    ("Okafor wrote back on Monday.", "Okafor"),
    ("This is Raj from the bank.", "Raj"),
    ("I'm Chidera, the new analyst.", "Chidera"),
]

INITIALS = [
    ("Kind regards,\nJ. Okafor", "J. Okafor"),
    ("Please call A. K. Mensah today.", "A. K. Mensah"),
]

FOUND = ORIGINS + PARTICLES + CUES + ROLES + SIGNATURES + FAMILY_FIRST
TABLE = (
    "Name | Email | Team\n"
    "Olumide Bankole | o.bankole@example.com | Risk\n"
    "tunde bakare | t.bakare@example.com | Audit\n"
    "ADEWALE OGUNDIPE | a.ogundipe@example.com | Payroll\n"
    "Okonkwo, Chidubem | c.okonkwo@example.com | Legal"
)
TABLES = [
    (TABLE, "Olumide Bankole"),
    (TABLE, "tunde bakare"),
    (TABLE, "ADEWALE OGUNDIPE"),
    (TABLE, "Okonkwo, Chidubem"),
    ("customer_name,balance\nSiphiwe Dube,200", "Siphiwe Dube"),
    ("Employee\tGrade\nnokuthula mabuza\tB2", "nokuthula mabuza"),
]

FOUND += CASES + BREAKS + FIELDS + SENTENCE_PLACES + INITIALS + TABLES

NOT_FOUND = [
    "Please call Customer Support about the refund.",
    "Contact Human Resources before Friday.",
    "The Federal Reserve held rates steady in June.",
    "Bank of America and Wells Fargo raised their fees.",
    "Paid Parental Leave starts on the first of January.",
    "The Family and Medical Leave Act applies to all staff.",
    "Email Accounts Payable by Friday.",
    "Our advisor network covers Latin America.",
    "Goldman Sachs and Morgan Stanley reported earnings.",
    "Kind regards,\nThe Payroll Team",
    "Dear Valued Customer,\nYour card is on its way.",
    "Sierra Leone and Costa Rica joined the network.",
    "The Santa Clara office closes early on Good Friday.",
    "Microsoft Excel and Adobe Acrobat need updates.",
    "Beneficiary IBAN DE44500105175407324931 was checked.",
    "Call Fraud Prevention if your card is lost.",
    "Ask Wealth Management for the transfer form.",
    "The Employee Assistance Program is confidential.",
    "Please cc Internal Audit on the reply.",
    "From: Treasury Operations\nTo: Accounts Receivable",
    "Meeting moved to Tuesday, March 4.",
    "Zurich confirmed the claim on Friday.",
    "However, we disagree with the fee.",
    '{"name": "Premium Plan", "product_name": "Zendesk"}',
    "username: jdoe",
    "Goldman Sachs's revenue rose.",
    "The Federal Reserve's decision surprised markets.",
    "Regards,\nAccounts Payable\nNorthwind Bank",
    "This is Monday's update.",
    "I am happy to help.",
    "Thanks, we will send it.",
    "Product | Price\nPremium Plan | 20\nGold Account | 30",
    "Name | Status\nN/A | open\nunknown | closed",
    "Employee, manager and HR\nThe policy applies, effective March.",
    "Keep phone numbers, social security numbers and keys out of chat.",
    "Numbers",
    "call back later",
    "This is great news.",
]


@pytest.mark.parametrize(("text", "name"), FOUND)
def test_name_is_found_whole(us_analyzer: Analyzer, text: str, name: str) -> None:
    assert name in people(us_analyzer, text)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_organization_place_or_policy_stays(us_analyzer: Analyzer, text: str) -> None:
    assert people(us_analyzer, text) == []


@pytest.mark.parametrize("word", ["america", "blessing", "justice", "general"])
def test_common_words_are_left_out_of_the_world_name_lists(word: str) -> None:
    assert word not in wordlists.world_given_names() | wordlists.world_surnames()


@pytest.mark.parametrize("name", ["chukwuemeka", "aoife", "ndlovu", "kowalczyk"])
def test_world_name_lists_hold_names_of_many_origins(name: str) -> None:
    assert name in wordlists.world_given_names() | wordlists.world_surnames()


# One case of each kind through redact(), with the vault, as callers use it.
REDACTED = [
    ("Temitope Oyebanji guarantees 25% returns.", "Temitope Oyebanji"),
    ("Please call Jean-Baptiste Kouassi about the fund.", "Jean-Baptiste Kouassi"),
    ("Contact our adviser Nkechi Obiora today.", "Nkechi Obiora"),
    ("Best regards,\n\nRukhsana Begum", "Rukhsana Begum"),
    ("Name: Zielinska, Marta", "Zielinska, Marta"),
    ("can you ask folake adeyemi to sign", "folake adeyemi"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "name"), REDACTED)
def test_redact_replaces_name_with_token(
    fresh_engines: None, text: str, name: str
) -> None:
    redaction = redact(text, scope_id=f"job:names-{hash(text)}", owner_id=None)

    assert name not in redaction.text
    assert "<PERSON_1>" in redaction.text
