"""Rulebooks: rules with deterministic patterns and an instruction for the
model. The database holds every version (see ``models``); the YAML files in
``rulebooks/`` are the seed, and this module parses both into the same
immutable form that a check runs on."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RULEBOOK_DIR = Path(__file__).resolve().parent / "rulebooks"
DEFAULT_RULEBOOK = "financial-communications"
SEVERITIES = ("low", "medium", "high")
PATTERN_KINDS = ("strong", "weak", "unless", "context")
# "overlap": an unless match cancels only the strong hits it overlaps.
# "text": an unless match anywhere cancels every hit of the rule.
UNLESS_SCOPES = ("overlap", "text")
APPLICABILITY = ("channels", "products", "audiences")


class RulebookError(ValueError):
    """A rulebook is malformed; the message names the source and rule."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    description: str
    instruction: str
    strong: tuple[re.Pattern[str], ...]
    weak: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    context: tuple[re.Pattern[str], ...] = ()
    unless_scope: str = "overlap"
    examples: tuple[tuple[str, bool], ...] = ()
    # Dimension ("channels", ...) -> the values the rule applies to; a
    # dimension that is absent or empty means every value.
    applies_to: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, options: dict[str, Any]) -> bool:
        """Whether the rule applies to a check submitted with ``options``
        (``channel``, ``product``, ``audience``). An option left unset
        matches every rule."""
        for dimension, values in self.applies_to.items():
            chosen = options.get(dimension.removesuffix("s"))
            if values and chosen and chosen not in values:
                return False
        return True


@dataclass(frozen=True)
class Rulebook:
    id: str
    version: str
    title: str
    rules: tuple[Rule, ...]
    # SHA-256 of the canonical rule data; identical rules, identical hash.
    content_hash: str = ""

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def applicable(self, options: dict[str, Any]) -> Rulebook:
        """This rulebook limited to the rules that apply to ``options``."""
        rules = tuple(rule for rule in self.rules if rule.applies(options))
        return Rulebook(self.id, self.version, self.title, rules, self.content_hash)


def _compile(
    source: str, rule_id: str, patterns: list[str]
) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns or []:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise RulebookError(
                f"{source}: rule {rule_id} has an invalid pattern {pattern!r}: {exc}"
            ) from None
    return tuple(compiled)


def normalize_rule(source: str, item: dict[str, Any]) -> dict[str, Any]:
    """Check one rule's data and return it in canonical form (the form the
    database stores and the content hash covers). Raises RulebookError."""
    rule_id = str(item.get("id") or "").strip()
    severity = str(item.get("severity") or "")
    if not rule_id or severity not in SEVERITIES:
        raise RulebookError(
            f"{source}: every rule needs an id and a severity of "
            f"{', '.join(SEVERITIES)} (rule {rule_id or '?'})."
        )
    instruction = " ".join(str(item.get("instruction") or "").split())
    title = str(item.get("title") or "").strip()
    if not instruction or not title:
        raise RulebookError(
            f"{source}: rule {rule_id} needs a title and an instruction."
        )
    unless_scope = str(item.get("unless_scope") or "overlap")
    if unless_scope not in UNLESS_SCOPES:
        raise RulebookError(
            f"{source}: rule {rule_id} has unless_scope {unless_scope!r}; use one "
            f"of {', '.join(UNLESS_SCOPES)}."
        )
    examples = []
    for example in item.get("examples") or []:
        if not isinstance(example, dict) or "text" not in example:
            raise RulebookError(
                f"{source}: rule {rule_id} has an example without a text."
            )
        examples.append(
            {
                "text": " ".join(str(example["text"]).split()),
                "violates": bool(example.get("violates")),
            }
        )
    applies_to = item.get("applies_to") or {}
    unknown = set(applies_to) - set(APPLICABILITY)
    if unknown:
        raise RulebookError(
            f"{source}: rule {rule_id} has unknown applies_to keys "
            f"{', '.join(sorted(unknown))}; use {', '.join(APPLICABILITY)}."
        )
    data: dict[str, Any] = {
        "id": rule_id,
        "title": title,
        "severity": severity,
        "description": " ".join(str(item.get("description") or "").split()),
        "instruction": instruction,
        "examples": examples,
        "unless_scope": unless_scope,
        "applies_to": {
            key: sorted(str(value) for value in applies_to.get(key) or [])
            for key in APPLICABILITY
        },
    }
    for kind in PATTERN_KINDS:
        patterns = [str(pattern) for pattern in item.get(kind) or []]
        _compile(source, rule_id, patterns)
        data[kind] = patterns
    return data


def build_rule(data: dict[str, Any]) -> Rule:
    """Compile canonical rule data (see ``normalize_rule``)."""
    rule_id = data["id"]
    return Rule(
        id=rule_id,
        title=data["title"],
        severity=data["severity"],
        description=data["description"],
        instruction=data["instruction"],
        strong=_compile(rule_id, rule_id, data["strong"]),
        weak=_compile(rule_id, rule_id, data["weak"]),
        unless=_compile(rule_id, rule_id, data["unless"]),
        context=_compile(rule_id, rule_id, data["context"]),
        unless_scope=data["unless_scope"],
        examples=tuple((e["text"], e["violates"]) for e in data["examples"]),
        applies_to={k: tuple(v) for k, v in data["applies_to"].items() if v},
    )


def content_hash(rules: list[dict[str, Any]]) -> str:
    canonical = json.dumps(rules, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_rules(source: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalize a list of rules; raise RulebookError on any problem."""
    rules = [normalize_rule(source, item) for item in items or []]
    if not rules:
        raise RulebookError(f"{source}: the rulebook has no rules.")
    ids = [rule["id"] for rule in rules]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise RulebookError(f"{source}: duplicate rule ids {', '.join(duplicates)}.")
    return rules


def parse(source: str, data: dict[str, Any]) -> Rulebook:
    """Parse a rulebook file's data (YAML mapping) without the database."""
    rules = parse_rules(source, data.get("rules") or [])
    return Rulebook(
        id=str(data["id"]),
        version=str(data["version"]),
        title=str(data.get("title", data["id"])),
        rules=tuple(build_rule(rule) for rule in rules),
        content_hash=content_hash(rules),
    )
