"""Rulebook versions in the database: loading the version a check runs on,
creating a new version for every edit, and seeding from the shipped YAML
files.

Versions are never changed or deleted: a verdict cites its version number,
and the review record points at the version row.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.compliance import rulebook as parsing
from appliance.compliance.models import Rule, Rulebook, RulebookVersion
from appliance.compliance.rulebook import (
    DEFAULT_RULEBOOK,
    RULEBOOK_DIR,
    RulebookError,
)

logger = logging.getLogger(__name__)

# Rule model fields that hold the canonical rule data, by data key.
_FIELDS = {
    "id": "rule_id",
    "title": "title",
    "severity": "severity",
    "description": "description",
    "instruction": "instruction",
    "examples": "examples",
    "unless_scope": "unless_scope",
    "strong": "strong",
    "weak": "weak",
    "unless": "unless",
    "context": "context",
}


def rule_data(rule: Rule) -> dict[str, Any]:
    """Return a stored rule in the canonical data form."""
    data = {key: getattr(rule, name) for key, name in _FIELDS.items()}
    data["applies_to"] = {
        key: list(getattr(rule, key)) for key in parsing.APPLICABILITY
    }
    return parsing.normalize_rule(rule.rule_id, data)


def version_data(version: RulebookVersion) -> list[dict[str, Any]]:
    return [rule_data(rule) for rule in version.rules.order_by("position")]


# Keyed by the content hash as well as the primary key, because a flushed
# test database reuses primary keys for other content.
@lru_cache(maxsize=32)
def _compiled(version_pk: int, content_hash: str) -> parsing.Rulebook:
    version = RulebookVersion.objects.select_related("rulebook").get(pk=version_pk)
    rules = version_data(version)
    return parsing.Rulebook(
        id=version.rulebook.slug,
        version=str(version.number),
        title=version.rulebook.title,
        rules=tuple(parsing.build_rule(rule) for rule in rules),
        content_hash=version.content_hash,
    )


def load(
    rulebook_id: str = DEFAULT_RULEBOOK, version: str | int | None = None
) -> parsing.Rulebook:
    """Return the rulebook's current version, or the numbered ``version``.
    Raises RulebookError when either does not exist."""
    book = Rulebook.objects.select_related("current").filter(slug=rulebook_id).first()
    if book is None:
        raise RulebookError(f"No rulebook with id {rulebook_id!r}.")
    if version is None:
        row = book.current
        if row is None:
            raise RulebookError(f"The rulebook {rulebook_id!r} has no version yet.")
    else:
        row = book.versions.filter(number=int(version)).first()
        if row is None:
            raise RulebookError(
                f"The rulebook {rulebook_id!r} has no version {version}."
            )
    return _compiled(row.pk, row.content_hash)


def rulebook_ids() -> list[str]:
    return list(
        Rulebook.objects.filter(current__isnull=False).values_list("slug", flat=True)
    )


def create_version(
    book: Rulebook,
    rules: list[dict[str, Any]],
    *,
    source: str,
    user: User | None = None,
    label: str = "",
    audit: bool = True,
) -> RulebookVersion:
    """Store ``rules`` as the rulebook's next version and make it current.
    Raises RulebookError when a rule is malformed."""
    normalized = parsing.parse_rules(source, rules)
    with transaction.atomic():
        book = Rulebook.objects.select_for_update().get(pk=book.pk)
        last = book.versions.order_by("-number").first()
        version = RulebookVersion.objects.create(
            rulebook=book,
            number=(last.number + 1) if last else 1,
            label=label,
            content_hash=parsing.content_hash(normalized),
            source=source,
            created_by=user,
        )
        for position, data in enumerate(normalized):
            fields = {name: data[key] for key, name in _FIELDS.items()}
            fields.update(data["applies_to"])
            Rule.objects.create(version=version, position=position, **fields)
        book.current = version
        book.save(update_fields=["current"])
        if audit:
            record(
                "compliance.rulebook_versioned",
                actor=user,
                object_type="compliance.rulebookversion",
                object_id=version.pk,
                details={
                    "rulebook": book.slug,
                    "version": version.number,
                    "rules": len(normalized),
                    "content_hash": version.content_hash,
                },
            )
    return version


def revise_rule(
    rule: Rule, data: dict[str, Any], user: User | None, *, delete: bool = False
) -> RulebookVersion:
    """Create the next version of the rule's rulebook with ``rule`` replaced
    by ``data`` (or removed, with ``delete``), keeping every other rule.
    Only a rule of the current version can be revised."""
    book = Rulebook.objects.get(pk=rule.version.rulebook_id)
    if book.current_id != rule.version_id:
        raise RulebookError(
            f"Rule {rule.rule_id} belongs to version {rule.version.number}, which "
            "is no longer current; edit the rule in the current version."
        )
    rules = []
    for existing in rule.version.rules.order_by("position"):
        if existing.pk != rule.pk:
            rules.append(rule_data(existing))
        elif not delete:
            rules.append(data)
    return create_version(book, rules, source="admin", user=user)


def add_rule(
    book: Rulebook, data: dict[str, Any], user: User | None
) -> RulebookVersion:
    """Create the next version of ``book`` with ``data`` appended."""
    rules = version_data(book.current) if book.current else []
    return create_version(book, [*rules, data], source="admin", user=user)


def load_rulebook_files(
    directory: Path = RULEBOOK_DIR, *, audit: bool = True
) -> list[RulebookVersion]:
    """Seed the database from the YAML files; return the versions created.

    Idempotent: a file whose rules equal any stored version of its rulebook
    (same content hash) creates nothing. A changed file creates a new
    version, which becomes current even over versions made in the admin.
    """
    created = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict) or not data.get("id"):
            raise RulebookError(f"{path.name}: a rulebook file needs an id.")
        rules = parsing.parse_rules(path.name, data.get("rules") or [])
        digest = parsing.content_hash(rules)
        book, _ = Rulebook.objects.get_or_create(
            slug=str(data["id"]), defaults={"title": str(data.get("title", ""))}
        )
        if book.versions.filter(content_hash=digest).exists():
            continue
        created.append(
            create_version(
                book,
                rules,
                source=f"file:{path.name}",
                label=str(data.get("version", "")),
                audit=audit,
            )
        )
        logger.info("rulebook %s: created version from %s", book.slug, path.name)
    return created
