"""The registry configuration in force: the file, the administrators'
overrides and terms from the database, and the deployment's countries."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max

from appliance.privacy.models import RecognizerOverride, RegistryTerm
from appliance.privacy.registry import (
    Override,
    PatternSpec,
    RegistryConfig,
    RegistryError,
    Term,
    build_config,
    read_file,
)


def to_override(row: RecognizerOverride) -> Override:
    where = f"recognizer override {row.name}"
    patterns = []
    for index, item in enumerate(row.patterns or []):
        if not isinstance(item, dict) or "regex" not in item:
            raise RegistryError(f"{where}: patterns[{index}] needs a regex.")
        patterns.append(
            PatternSpec(
                name=str(item.get("name", f"admin pattern {index + 1}")),
                regex=str(item["regex"]),
                score=float(item.get("score", 0.8)),
            )
        )
    return Override(
        name=row.name,
        enabled=row.enabled,
        entity=row.entity,
        countries=tuple(str(c).lower() for c in row.countries or []),
        patterns=tuple(patterns),
        context=tuple(str(word) for word in row.context or []),
        terms=tuple(str(term) for term in row.terms or []),
    )


def stored_version() -> tuple[int, str]:
    """Changes whenever an override or a term is added, edited or removed."""
    versions = []
    for model in (RecognizerOverride, RegistryTerm):
        row = model.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
        versions.append(f"{row['count']}:{row['latest']}")
    return len(versions), "|".join(versions)


def to_term(row: RegistryTerm) -> Term:
    return Term(
        list=row.list, value=row.value, entity=row.entity, is_pattern=row.is_pattern
    )


def config_with(
    rows: Iterable[RecognizerOverride], terms: Iterable[RegistryTerm]
) -> RegistryConfig:
    """Build the configuration from the settings' file and countries with
    these override and term rows; RegistryError names what is invalid."""
    path = settings.PRIVACY_RECOGNIZERS_FILE
    return build_config(
        read_file(Path(path) if path else None),
        countries=settings.PRIVACY_COUNTRIES,
        overrides=[to_override(row) for row in rows],
        terms=[to_term(row) for row in terms],
    )


def current_config(*, with_overrides: bool = True) -> RegistryConfig:
    """Build the configuration in force: the file and, with
    ``with_overrides``, the database's overrides and terms."""
    if not with_overrides:
        return config_with([], [])
    return config_with(RecognizerOverride.objects.all(), RegistryTerm.objects.all())
