"""The recognizer registry as configuration: recognizers.yaml, then the
administrators' overrides stored in the database, filtered by the
deployment's countries.

The result is a plain, hashable ``RegistryConfig``; the analyzer builds its
recognizers from it and rebuilds them when its fingerprint changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import regex
import yaml

DEFAULT_FILE = Path(__file__).with_name("recognizers.yaml")
KINDS = (
    "pattern",
    "phone",
    "person",
    "street_address",
    "date_of_birth",
    "health_condition",
)
VALIDATORS = (
    "luhn",
    "iban",
    "us_ssn",
    "us_itin",
    "aba_routing",
    "gb_nhs",
    "gb_nino",
    "ip_address",
    "bitcoin",
)
ENTITY_NAME = regex.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
FLAGS = regex.IGNORECASE | regex.MULTILINE


class RegistryError(ValueError):
    """The registry configuration is invalid; the message names the entry."""


@dataclass(frozen=True)
class PatternSpec:
    name: str
    regex: str
    score: float
    # Lower-case strings of which one must occur in the text for the pattern
    # to match at all; the pattern is skipped when none does.
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecognizerSpec:
    """One recognizer as configured; see recognizers.yaml for the keys."""

    name: str
    entity: str
    kind: str = "pattern"
    countries: tuple[str, ...] = ()
    identifier: bool = False
    patterns: tuple[PatternSpec, ...] = ()
    validator: str | None = None
    context: tuple[str, ...] = ()
    negative_context: tuple[str, ...] = ()
    context_required: bool = False
    enabled: bool = True
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Override:
    """An administrator's change to one recognizer, or a new recognizer.

    None and empty values keep the file's values; patterns, context words
    and terms are added to the file's."""

    name: str
    enabled: bool | None = None
    entity: str = ""
    countries: tuple[str, ...] = ()
    patterns: tuple[PatternSpec, ...] = ()
    context: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Term:
    """An allow-list or deny-list entry added by an administrator."""

    list: str  # "allow" or "deny"
    value: str
    entity: str = ""
    is_pattern: bool = False


@dataclass(frozen=True)
class RegistryConfig:
    recognizers: tuple[RecognizerSpec, ...]
    countries: tuple[str, ...]
    score_threshold: float = 0.5
    context_boost: float = 0.35
    context_window: tuple[int, int] = (48, 24)
    allow_terms: frozenset[str] = frozenset()
    allow_patterns: tuple[str, ...] = ()
    deny_terms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fingerprint: str = field(default="", compare=False)

    def active(self) -> list[RecognizerSpec]:
        """Recognizers that are enabled and apply to the deployment's
        countries."""
        countries = set(self.countries)
        return [
            spec
            for spec in self.recognizers
            if spec.enabled and (not spec.countries or countries & set(spec.countries))
        ]

    def identifier_entities(self) -> set[str]:
        return {spec.entity for spec in self.active() if spec.identifier}


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str | int) for item in value
    ):
        raise RegistryError(f"{where} must be a list of strings.")
    return tuple(str(item) for item in value)


def _check_regex(pattern: str, where: str) -> None:
    try:
        regex.compile(pattern, FLAGS)
    except regex.error as exc:
        raise RegistryError(f"{where}: invalid regex ({exc}).") from None


def _patterns(value: Any, where: str) -> tuple[PatternSpec, ...]:
    patterns = []
    for index, item in enumerate(value or []):
        if not isinstance(item, Mapping) or "regex" not in item:
            raise RegistryError(f"{where}.patterns[{index}] needs a regex.")
        spec = PatternSpec(
            name=str(item.get("name", f"pattern {index + 1}")),
            regex=str(item["regex"]),
            score=float(item.get("score", 0.8)),
            requires=tuple(
                r.lower() for r in _strings(item.get("requires"), f"{where}.requires")
            ),
        )
        if not 0.0 < spec.score <= 1.0:
            raise RegistryError(f"{where}.patterns[{index}].score must be in (0, 1].")
        _check_regex(spec.regex, f"{where}.patterns[{index}]")
        patterns.append(spec)
    return tuple(patterns)


def _recognizer(item: Mapping[str, Any]) -> RecognizerSpec:
    name = str(item.get("name", ""))
    where = f"recognizer {name or '(unnamed)'}"
    if not name:
        raise RegistryError(f"{where} needs a name.")
    entity = str(item.get("entity", ""))
    if not ENTITY_NAME.fullmatch(entity):
        raise RegistryError(f"{where}: entity {entity!r} must be like PERSON.")
    kind = str(item.get("kind", "pattern"))
    if kind not in KINDS:
        raise RegistryError(f"{where}: kind must be one of {', '.join(KINDS)}.")
    validator = item.get("validator")
    if validator is not None and validator not in VALIDATORS:
        raise RegistryError(f"{where}: unknown validator {validator!r}.")
    spec = RecognizerSpec(
        name=name,
        entity=entity,
        kind=kind,
        countries=tuple(c.lower() for c in _strings(item.get("countries"), where)),
        identifier=bool(item.get("identifier", False)),
        patterns=_patterns(item.get("patterns"), where),
        validator=validator,
        context=_strings(item.get("context"), f"{where}.context"),
        negative_context=_strings(
            item.get("negative_context"), f"{where}.negative_context"
        ),
        context_required=bool(item.get("context_required", False)),
        enabled=bool(item.get("enabled", True)),
        terms=_strings(item.get("terms"), f"{where}.terms"),
    )
    if kind == "pattern" and not spec.patterns:
        raise RegistryError(f"{where}: a pattern recognizer needs patterns.")
    return spec


def _apply_override(specs: dict[str, RecognizerSpec], override: Override) -> None:
    current = specs.get(override.name)
    if current is None:
        specs[override.name] = _recognizer(
            {
                "name": override.name,
                "entity": override.entity,
                "enabled": override.enabled is not False,
                "countries": list(override.countries),
                "identifier": True,
                "patterns": [asdict(p) for p in override.patterns],
                "context": list(override.context),
            }
        )
        return
    specs[override.name] = replace(
        current,
        enabled=current.enabled if override.enabled is None else override.enabled,
        countries=override.countries or current.countries,
        patterns=current.patterns + override.patterns,
        context=current.context + override.context,
        terms=current.terms + override.terms,
    )


def _deny_terms(
    document: Mapping[str, Any], terms: list[Term]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    deny: dict[str, list[str]] = {}
    for entity, values in (document.get("deny_list") or {}).items():
        if not ENTITY_NAME.fullmatch(str(entity)):
            raise RegistryError(f"deny_list: entity {entity!r} must be like CODE_NAME.")
        deny.setdefault(str(entity), []).extend(_strings(values, "deny_list"))
    for term in terms:
        if term.list == "deny":
            deny.setdefault(term.entity or "CODE_NAME", []).append(term.value)
    return tuple(sorted((e, tuple(dict.fromkeys(v))) for e, v in deny.items()))


def build_config(
    document: Mapping[str, Any],
    *,
    countries: Iterable[str],
    overrides: Iterable[Override] = (),
    terms: Iterable[Term] = (),
) -> RegistryConfig:
    """Combine a parsed registry file with overrides and terms."""
    specs: dict[str, RecognizerSpec] = {}
    for item in document.get("recognizers") or []:
        spec = _recognizer(item)
        if spec.name in specs:
            raise RegistryError(f"recognizer {spec.name} is defined twice.")
        specs[spec.name] = spec
    for override in overrides:
        _apply_override(specs, override)

    term_list = list(terms)
    allow = document.get("allow_list") or {}
    allow_patterns = _strings(allow.get("patterns"), "allow_list.patterns") + tuple(
        t.value for t in term_list if t.list == "allow" and t.is_pattern
    )
    for index, pattern in enumerate(allow_patterns):
        _check_regex(pattern, f"allow_list.patterns[{index}]")
    allow_terms = _strings(allow.get("terms"), "allow_list.terms") + tuple(
        t.value for t in term_list if t.list == "allow" and not t.is_pattern
    )
    window = document.get("context_window", [48, 24])
    config = RegistryConfig(
        recognizers=tuple(specs.values()),
        countries=tuple(sorted(c.lower() for c in countries)),
        score_threshold=float(document.get("score_threshold", 0.5)),
        context_boost=float(document.get("context_boost", 0.35)),
        context_window=(int(window[0]), int(window[1])),
        allow_terms=frozenset(allow_terms),
        allow_patterns=allow_patterns,
        deny_terms=_deny_terms(document, term_list),
    )
    digest = hashlib.sha256(
        json.dumps(asdict(config), sort_keys=True, default=sorted).encode()
    ).hexdigest()
    return replace(config, fingerprint=digest[:16])


def read_file(path: Path | None = None) -> dict[str, Any]:
    """Parse a registry file; ``path`` None reads the built-in one."""
    source = path or DEFAULT_FILE
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"{source} cannot be read as YAML ({exc}).") from None
    if not isinstance(document, dict):
        raise RegistryError(f"{source} must contain a mapping.")
    return document
