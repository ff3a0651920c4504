"""The recognizer registry: the file's validation, overrides and terms,
countries, and administrators' changes reaching the analyzer."""

from __future__ import annotations

import pytest

from appliance.privacy import engines
from appliance.privacy.models import RecognizerOverride, RegistryTerm
from appliance.privacy.registry import (
    Override,
    PatternSpec,
    RegistryConfig,
    RegistryError,
    build_config,
    read_file,
)


def names(config: RegistryConfig) -> set[str]:
    return {spec.name for spec in config.active()}


def test_countries_switch_recognizers():
    us = build_config(read_file(), countries=["us"])
    gb = build_config(read_file(), countries=["gb"])

    assert "us_ssn" in names(us)
    assert "uk_nhs" not in names(us)
    assert "uk_nhs" in names(gb)
    assert "us_ssn" not in names(gb)


def test_override_disables_and_extends():
    config = build_config(
        read_file(),
        countries=["us"],
        overrides=[
            Override(name="us_passport", enabled=False),
            Override(
                name="employee_id", patterns=(PatternSpec("badge", r"B-\d{6}", 0.9),)
            ),
        ],
    )

    assert "us_passport" not in names(config)
    employee = next(s for s in config.recognizers if s.name == "employee_id")
    assert employee.patterns[-1].regex == r"B-\d{6}"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"recognizers": [{"name": "x", "entity": "lower"}]}, "must be like PERSON"),
        ({"recognizers": [{"name": "x", "entity": "X_ID", "kind": "magic"}]}, "kind"),
        (
            {
                "recognizers": [
                    {"name": "x", "entity": "X_ID", "patterns": [{"regex": "("}]}
                ]
            },
            "invalid regex",
        ),
        ({"recognizers": [{"name": "x", "entity": "X_ID"}]}, "needs patterns"),
        (
            {
                "recognizers": [
                    {
                        "name": "x",
                        "entity": "X_ID",
                        "validator": "md5",
                        "patterns": [{"regex": "x"}],
                    }
                ]
            },
            "unknown validator",
        ),
    ],
)
def test_invalid_registry_named(document, message):
    with pytest.raises(RegistryError, match=message):
        build_config(document, countries=["us"])


def test_fingerprint_changes_with_content():
    plain = build_config(read_file(), countries=["us"])
    other = build_config(read_file(), countries=["gb"])

    assert plain.fingerprint != other.fingerprint


@pytest.mark.django_db
def test_stored_changes_reach_analyzer(fresh_engines, settings):
    settings.PRIVACY_REGISTRY_REFRESH = 0
    text = "Ticket owner badge B-204311 and project Falconer."
    before = {f.entity_type for f in engines.get_analyzer().analyze(text)}

    RecognizerOverride.objects.create(
        name="badge",
        entity="BADGE_ID",
        patterns=[{"name": "badge", "regex": r"B-\d{6}", "score": 0.9}],
    )
    RegistryTerm.objects.create(list="deny", value="Falconer", entity="CODE_NAME")
    after = {f.entity_type for f in engines.get_analyzer().analyze(text)}

    assert "BADGE_ID" not in before
    assert {"BADGE_ID", "CODE_NAME"} <= after
