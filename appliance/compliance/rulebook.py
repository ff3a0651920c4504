"""Rulebooks: rules with deterministic patterns and a question for the model,
loaded from YAML files in ``rulebooks/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULEBOOK_DIR = Path(__file__).resolve().parent / "rulebooks"
DEFAULT_RULEBOOK = "financial-communications"
SEVERITIES = ("low", "medium", "high")


class RulebookError(ValueError):
    """A rulebook file is malformed; the message names the file and rule."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    description: str
    question: str
    strong: tuple[re.Pattern[str], ...]
    weak: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Rulebook:
    id: str
    version: str
    title: str
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


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


def parse(source: str, data: dict[str, Any]) -> Rulebook:
    rules = []
    for item in data.get("rules") or []:
        rule_id = str(item.get("id", ""))
        severity = str(item.get("severity", ""))
        if not rule_id or severity not in SEVERITIES:
            raise RulebookError(
                f"{source}: every rule needs an id and a severity of "
                f"{', '.join(SEVERITIES)} (rule {rule_id or '?'})."
            )
        rules.append(
            Rule(
                id=rule_id,
                title=str(item["title"]),
                severity=severity,
                description=" ".join(str(item.get("description", "")).split()),
                question=" ".join(str(item["question"]).split()),
                strong=_compile(source, rule_id, item.get("strong")),
                weak=_compile(source, rule_id, item.get("weak")),
                unless=_compile(source, rule_id, item.get("unless")),
            )
        )
    if not rules:
        raise RulebookError(f"{source}: the rulebook has no rules.")
    return Rulebook(
        id=str(data["id"]),
        version=str(data["version"]),
        title=str(data.get("title", data["id"])),
        rules=tuple(rules),
    )


@lru_cache(maxsize=8)
def load(rulebook_id: str = DEFAULT_RULEBOOK) -> Rulebook:
    for path in sorted(RULEBOOK_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data.get("id") == rulebook_id:
            return parse(path.name, data)
    raise RulebookError(f"No rulebook with id {rulebook_id!r} in {RULEBOOK_DIR}.")
