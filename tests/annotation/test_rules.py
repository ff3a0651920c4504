"""The deterministic annotation rules and the taxonomy that configures them."""

from __future__ import annotations

import pytest
import yaml

from appliance.annotation import checks, prompts, rules, taxonomy
from appliance.annotation.taxonomy import TaxonomyError, load
from tests.support import documents


@pytest.fixture
def default_taxonomy():
    taxonomy.reset()
    yield load()
    taxonomy.reset()


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("opm_cpm_2020-18_memo_dec24_closure.txt", "text/plain", "memorandum"),
        ("fomc_minutes_2023-06-13_14.txt", "text/plain", "meeting_minutes"),
        ("fdic_failed_bank_list_2000-2016.csv", "text/csv", "dataset"),
        ("opm_chco_email_notice_2025-01-09_closure.txt", "text/plain", "email"),
        ("tts_security_incident_response.md", "text/plain", "policy"),
        ("usagov_imposter_scams.md", "text/plain", "guidance"),
        ("c04_kardashian_emax_instagram_story.txt", "text/plain", "marketing"),
    ],
)
def test_document_type_by_rules(default_taxonomy, name, content_type, expected):
    text = documents.sample(name)

    kind, source = rules.document_type(default_taxonomy, text, content_type)

    assert kind == expected
    assert source in ("rules", "format")


def test_format_decides_email(default_taxonomy):
    kind, source = rules.document_type(default_taxonomy, "Hello.", "message/rfc822")

    assert (kind, source) == ("email", "format")


def test_no_rule_gives_other(default_taxonomy):
    kind, source = rules.document_type(default_taxonomy, "Blue sky.", "text/plain")

    assert (kind, source) == ("other", "none")


def test_tags_from_keywords(default_taxonomy):
    text = documents.sample("usagov_imposter_scams.md")

    assert "fraud" in rules.tags(default_taxonomy, text)
    assert "crypto" not in rules.tags(default_taxonomy, text)


@pytest.mark.parametrize(
    ("pii", "text", "kind", "expected", "reason"),
    [
        ({"US_SSN": 1}, "A form.", "other", "restricted", "pii:US_SSN"),
        ({}, "Attorney-client privileged.", "memorandum", "restricted", "pattern"),
        (
            {"PHONE_NUMBER": 3},
            "Contacts.",
            "dataset",
            "confidential",
            "pii:PHONE_NUMBER",
        ),
        ({"PHONE_NUMBER": 2}, "Contacts.", "dataset", "internal", "default"),
        ({"EMAIL_ADDRESS": 12}, "Contacts.", "dataset", "internal", "default"),
        ({}, "CONFIDENTIAL\nQ3 plans.", "memorandum", "confidential", "pattern"),
        ({}, "Keep confidential data safe.", "policy", "internal", "default"),
        ({"PERSON": 2}, "Buy now.", "marketing", "public", "document_type"),
        ({}, "Released into the public domain.", "other", "public", "pattern"),
        ({}, "Notes.", "other", "internal", "default"),
    ],
)
def test_classification_levels(default_taxonomy, pii, text, kind, expected, reason):
    level, reasons = rules.classify(default_taxonomy, text, pii, kind)

    assert level == expected
    assert reason in reasons


def test_retention_from_type_or_pattern(default_taxonomy):
    assert rules.retention(default_taxonomy, "Notes.", "meeting_minutes") == "permanent"
    assert rules.retention(default_taxonomy, "Notes.", "email") == "short_term"
    assert rules.retention(default_taxonomy, "I am out of office.", "email") == (
        "transitory"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (documents.sample("opm_chco_email_notice_2025-01-09_closure.txt"), "en"),
        (
            "Le président a publié un décret qui ferme les administrations "
            "fédérales et dispense les fonctionnaires de service jeudi.",
            "fr",
        ),
        (
            "Der Präsident hat eine Verordnung erlassen, die Bundesbehörden "
            "schließt und die Beschäftigten am Donnerstag vom Dienst freistellt.",
            "de",
        ),
        ("12 34 56", "und"),
    ],
    ids=["english", "french", "german", "digits"],
)
def test_language(text, expected):
    code, confidence = rules.language(text)

    assert code == expected
    assert 0 <= confidence <= 1


def test_taxonomy_file_setting(settings, tmp_path):
    data = yaml.safe_load(taxonomy.DEFAULT_FILE.read_text())
    data["id"] = "records-team"
    data["tags"].append({"id": "weather", "patterns": [r"\bsnow\b"]})
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data))
    settings.ANNOTATION_TAXONOMY_FILE = str(path)
    taxonomy.reset()
    try:
        custom = load()
    finally:
        taxonomy.reset()

    assert custom.id == "records-team"
    assert rules.tags(custom, "Offices close for snow.") == ["weather"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data.pop("tags"), "'tags' must be a non-empty list"),
        (
            lambda data: data["tags"].append({"id": "x", "patterns": ["("]}),
            "invalid pattern",
        ),
        (
            lambda data: data["document_types"][0].update(retention="forever"),
            "names retention 'forever'",
        ),
        (
            lambda data: data["classification"].append({"level": "secret"}),
            "is not one of",
        ),
    ],
    ids=["no-tags", "bad-pattern", "unknown-retention", "unknown-level"],
)
def test_invalid_taxonomy_rejected(change, message):
    data = yaml.safe_load(taxonomy.DEFAULT_FILE.read_text())
    change(data)

    with pytest.raises(TaxonomyError) as error:
        taxonomy.parse(data, "custom.yaml")

    assert message in str(error.value)
    assert "custom.yaml" in str(error.value)


def test_extract_summary_skips_navigation():
    text = documents.sample("usagov_imposter_scams.md")

    summary = prompts.extract_summary(text)

    assert summary.startswith("Imposter scammers pretend to be from the IRS")
    assert "[Home]" not in summary
    assert "**" not in summary
    assert len(summary) <= prompts.SUMMARY_MAX_CHARS


def test_system_check_names_bad_taxonomy(settings, tmp_path):
    path = tmp_path / "taxonomy.yaml"
    path.write_text("id: broken\nversion: '1'\ntags: []\n")
    settings.ANNOTATION_TAXONOMY_FILE = str(path)

    try:
        errors = checks.taxonomy_loads()
    finally:
        settings.ANNOTATION_TAXONOMY_FILE = None
        taxonomy.reset()

    assert [error.id for error in errors] == ["annotation.E001"]
    assert str(path) in errors[0].msg
