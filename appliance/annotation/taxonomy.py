"""The annotation taxonomy: document types, tags, classification levels and
retention categories, loaded from YAML (``taxonomy.yaml`` beside this module,
or the file APPLIANCE_ANNOTATION_TAXONOMY_FILE names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_FILE = Path(__file__).resolve().parent / "taxonomy.yaml"
LEVELS = ("public", "internal", "confidential", "restricted")


@dataclass(frozen=True)
class Rule:
    """A taxonomy entry chosen by how many of its patterns match."""

    id: str
    patterns: tuple[re.Pattern[str], ...]
    min_score: int = 1
    formats: tuple[str, ...] = ()
    retention: str = ""
    description: str = ""

    def score(self, text: str) -> int:
        return sum(1 for pattern in self.patterns if pattern.search(text))


@dataclass(frozen=True)
class Level:
    """A data classification level and the conditions that select it."""

    level: str
    pii_types: frozenset[str]
    min_entities: int
    document_types: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Taxonomy:
    id: str
    version: str
    document_types: tuple[Rule, ...]
    tags: tuple[Rule, ...]
    levels: tuple[Level, ...]
    retention: tuple[Rule, ...]

    @property
    def type_ids(self) -> list[str]:
        return [rule.id for rule in self.document_types]

    @property
    def tag_ids(self) -> list[str]:
        return [rule.id for rule in self.tags]

    @property
    def retention_ids(self) -> list[str]:
        return [rule.id for rule in self.retention]

    def document_type(self, type_id: str) -> Rule:
        for rule in self.document_types:
            if rule.id == type_id:
                return rule
        raise KeyError(type_id)


class TaxonomyError(ImproperlyConfigured):
    """The taxonomy file is malformed; the message names the file and entry."""


def _patterns(source: str, entry: str, values: Any) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for value in values or []:
        try:
            compiled.append(re.compile(str(value), re.IGNORECASE | re.MULTILINE))
        except re.error as exc:
            raise TaxonomyError(
                f"{source}: {entry} has an invalid pattern {value!r}: {exc}"
            ) from None
    return tuple(compiled)


def _rules(source: str, section: str, entries: Any) -> tuple[Rule, ...]:
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(f"{source}: '{section}' must be a non-empty list.")
    rules = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise TaxonomyError(f"{source}: every entry of '{section}' needs an id.")
        name = f"{section} entry {entry['id']!r}"
        rules.append(
            Rule(
                id=str(entry["id"]),
                patterns=_patterns(source, name, entry.get("patterns")),
                min_score=int(entry.get("min_score", 1)),
                formats=tuple(str(item) for item in entry.get("formats") or ()),
                retention=str(entry.get("retention", "")),
                description=str(entry.get("description", "")),
            )
        )
    ids = [rule.id for rule in rules]
    if len(set(ids)) != len(ids):
        raise TaxonomyError(f"{source}: '{section}' repeats an id.")
    return tuple(rules)


def _levels(source: str, entries: Any) -> tuple[Level, ...]:
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(f"{source}: 'classification' must be a non-empty list.")
    levels = []
    for entry in entries:
        level = str((entry or {}).get("level", ""))
        if level not in LEVELS:
            raise TaxonomyError(
                f"{source}: classification level {level!r} is not one of "
                f"{', '.join(LEVELS)}."
            )
        levels.append(
            Level(
                level=level,
                pii_types=frozenset(entry.get("pii_types") or ()),
                min_entities=int(entry.get("min_entities", 1)),
                document_types=frozenset(entry.get("document_types") or ()),
                patterns=_patterns(source, f"level {level}", entry.get("patterns")),
            )
        )
    return tuple(levels)


def parse(data: Any, source: str) -> Taxonomy:
    """Build a taxonomy from parsed YAML; raise TaxonomyError if it is invalid."""
    if not isinstance(data, dict):
        raise TaxonomyError(f"{source}: the file must hold a mapping.")
    taxonomy = Taxonomy(
        id=str(data.get("id", "")),
        version=str(data.get("version", "")),
        document_types=_rules(source, "document_types", data.get("document_types")),
        tags=_rules(source, "tags", data.get("tags")),
        levels=_levels(source, data.get("classification")),
        retention=_rules(source, "retention", data.get("retention")),
    )
    if not taxonomy.id or not taxonomy.version:
        raise TaxonomyError(f"{source}: the taxonomy needs an id and a version.")
    for rule in taxonomy.document_types:
        if rule.retention not in taxonomy.retention_ids:
            raise TaxonomyError(
                f"{source}: document type {rule.id!r} names retention "
                f"{rule.retention!r}, which the 'retention' list does not define."
            )
    return taxonomy


@lru_cache(maxsize=4)
def _load(path: str) -> Taxonomy:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(
            f"The annotation taxonomy {path} cannot be read ({exc}). Fix "
            "APPLIANCE_ANNOTATION_TAXONOMY_FILE or the file."
        ) from None
    return parse(data, path)


def load() -> Taxonomy:
    """The configured taxonomy, parsed once per process and file."""
    return _load(settings.ANNOTATION_TAXONOMY_FILE or str(DEFAULT_FILE))


def reset() -> None:
    _load.cache_clear()
