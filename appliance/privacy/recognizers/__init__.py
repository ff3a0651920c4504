"""Recognizers built from the registry configuration, and the allow-list."""

from __future__ import annotations

from typing import Protocol

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers.address import StreetAddressRecognizer
from appliance.privacy.recognizers.base import (
    AnalysisTimeout,
    BoundedPatternRecognizer,
    Settings,
    trie_pattern,
)
from appliance.privacy.recognizers.dates import DateOfBirthRecognizer
from appliance.privacy.recognizers.health import HealthConditionRecognizer
from appliance.privacy.recognizers.person import PersonRecognizer
from appliance.privacy.recognizers.phone import PhoneNumberRecognizer
from appliance.privacy.registry import (
    FLAGS,
    PatternSpec,
    RecognizerSpec,
    RegistryConfig,
)

__all__ = [
    "AllowList",
    "AnalysisTimeout",
    "PersonRecognizer",
    "Recognizer",
    "Settings",
    "build_recognizers",
]


class Recognizer(Protocol):
    """Presidio's recognizer interface as the analyzer calls it, with NLP
    artifacts optional (the identifier scan runs without them)."""

    supported_entities: list[str]

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]: ...


def _deny_list(entity: str, terms: tuple[str, ...]) -> RecognizerSpec:
    pattern = r"(?<![\w])" + trie_pattern({t.lower() for t in terms}) + r"(?![\w])"
    return RecognizerSpec(
        name=f"deny_list {entity}",
        entity=entity,
        identifier=True,
        patterns=(PatternSpec("deny list", pattern, 1.0),),
    )


def _build(
    spec: RecognizerSpec, config: RegistryConfig, settings: Settings
) -> Recognizer:
    if spec.kind == "phone":
        return PhoneNumberRecognizer(spec, settings, config.countries)
    if spec.kind == "person":
        return PersonRecognizer(spec, settings, config.allow_terms)
    if spec.kind == "street_address":
        return StreetAddressRecognizer(spec, settings)
    if spec.kind == "date_of_birth":
        return DateOfBirthRecognizer(spec, settings)
    if spec.kind == "health_condition":
        return HealthConditionRecognizer(spec, settings)
    return BoundedPatternRecognizer(spec, settings)


def build_recognizers(
    config: RegistryConfig, settings: Settings, *, identifiers_only: bool = False
) -> list[Recognizer]:
    """Build the configuration's active recognizers. With
    ``identifiers_only``, build only those for fixed-format identifiers,
    which need no NLP."""
    specs = config.active()
    specs += [_deny_list(entity, terms) for entity, terms in config.deny_terms if terms]
    if identifiers_only:
        specs = [spec for spec in specs if spec.identifier]
    return [_build(spec, config, settings) for spec in specs]


class AllowList:
    """Terms and patterns whose findings stay in the text."""

    def __init__(self, config: RegistryConfig, settings: Settings) -> None:
        self.terms = {term.lower() for term in config.allow_terms}
        self.patterns = [regex.compile(p, FLAGS) for p in config.allow_patterns]
        self.timeout = settings.timeout

    def allows(self, value: str) -> bool:
        if value.lower() in self.terms:
            return True
        try:
            return any(p.fullmatch(value, timeout=self.timeout) for p in self.patterns)
        except TimeoutError:
            raise AnalysisTimeout("allow list") from None

    def filter(
        self, text: str, results: list[RecognizerResult]
    ) -> list[RecognizerResult]:
        return [r for r in results if not self.allows(text[r.start : r.end])]
