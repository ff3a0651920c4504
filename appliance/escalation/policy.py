"""Escalation policies: a versioned document and its evaluation.

A policy document sets, per workload and data classification, whether a
request may go to an external model at all, to which providers and models,
for which requester roles and teams, within what monthly budget per team,
and how many people must approve it. ``evaluate`` is a pure function of the
document and a ``Subject``; it runs every check and returns each one with its
outcome, so a denial lists every reason, not the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SEED_FILE = Path(__file__).resolve().parent / "policies.yaml"

# Classifications, lowest first.
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
RESTRICTED = "restricted"

_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
_RULE = {
    "type": "object",
    "required": [
        "allowed",
        "providers",
        "requester_roles",
        "teams",
        "approvals",
        "monthly_budget",
    ],
    "additionalProperties": False,
    "properties": {
        "allowed": {"type": "boolean"},
        "providers": {"type": "object", "additionalProperties": _NAMES},
        "requester_roles": _NAMES,
        "teams": _NAMES,
        "approvals": {"type": "integer", "enum": [1, 2]},
        "monthly_budget": {"type": "number", "minimum": 0},
        "team_budgets": {
            "type": "object",
            "additionalProperties": {"type": "number", "minimum": 0},
        },
    },
}
DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["classify", "workloads"],
    "additionalProperties": False,
    "properties": {
        "classify": {
            "type": "object",
            "required": ["default"],
            "additionalProperties": False,
            "properties": {
                "default": {"enum": list(CLASSIFICATIONS)},
                **{name: _NAMES for name in CLASSIFICATIONS},
            },
        },
        "workloads": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["classification_ceiling", "rules"],
                "additionalProperties": False,
                "properties": {
                    "eligible": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "verdicts": _NAMES,
                            "below_confidence": {
                                "type": "number",
                                "minimum": 0,
                                "maximum": 1,
                            },
                        },
                    },
                    "classification_ceiling": {"enum": list(CLASSIFICATIONS)},
                    "deny_residual_entities": _NAMES,
                    "rules": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {name: _RULE for name in CLASSIFICATIONS},
                    },
                },
            },
        },
    },
}


class InvalidPolicy(ValueError):
    """The policy document does not match the schema or breaks a rule."""


def validate(document: Any) -> dict[str, Any]:
    """Return ``document`` if it is a valid policy, else raise InvalidPolicy."""
    try:
        jsonschema.validate(document, DOCUMENT_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(top level)"
        raise InvalidPolicy(f"Invalid policy at {where}: {exc.message}") from None
    for workload, spec in document["workloads"].items():
        restricted = spec["rules"].get(RESTRICTED)
        if restricted and restricted["allowed"] and restricted["approvals"] < 2:
            raise InvalidPolicy(
                f"Invalid policy at workloads/{workload}/rules/restricted: "
                "restricted data needs two approvals."
            )
    valid: dict[str, Any] = document
    return valid


def read_seed(path: Path = SEED_FILE) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidPolicy(f"The policy file {path} cannot be read: {exc}") from None
    return validate(document)


def rank(classification: str) -> int:
    return CLASSIFICATIONS.index(classification)


def classify(
    document: dict[str, Any], entity_types: set[str], declared: str | None
) -> str:
    """Return the highest of the declared classification and the one the
    entity types found by redaction imply."""
    rules = document["classify"]
    found = rules["default"]
    for name in CLASSIFICATIONS:
        if entity_types & set(rules.get(name, [])) and rank(name) > rank(found):
            found = name
    if declared is not None and rank(declared) > rank(found):
        found = declared
    return str(found)


@dataclass(frozen=True)
class Subject:
    """One proposed escalation, as the policy sees it."""

    workload: str
    classification: str
    requester_roles: frozenset[str]
    team: str | None
    provider: str
    model: str
    estimated_cost: Decimal
    # The team's spend this month: sent requests at their cost, approved and
    # in-flight ones at their estimate.
    team_spend: Decimal
    residual_entities: dict[str, int] = field(default_factory=dict)
    verdict: str | None = None
    lowest_confidence: float | None = None


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    approvals_required: int
    budget: Decimal
    checks: list[Check]

    @property
    def reasons(self) -> list[Check]:
        """The failed checks: why the request is denied."""
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "approvals_required": self.approvals_required,
            "budget": str(self.budget),
            "checks": [check.to_dict() for check in self.checks],
        }


def evaluate(document: dict[str, Any], subject: Subject) -> Decision:
    """Run every check of the policy against ``subject``."""
    spec = document["workloads"].get(subject.workload)
    if spec is None:
        check = Check(
            "workload_covered",
            False,
            f"No policy covers the workload {subject.workload}.",
        )
        return Decision(False, 2, Decimal(0), [check])

    rule = spec["rules"].get(subject.classification)
    checks = [
        Check("workload_covered", True, f"The policy covers {subject.workload}."),
        _eligible(spec.get("eligible"), subject),
        _ceiling(spec["classification_ceiling"], subject.classification),
        _residual(spec.get("deny_residual_entities", []), subject.residual_entities),
    ]
    if rule is None:
        checks.append(
            Check(
                "classification_allowed",
                False,
                f"The policy has no rule for {subject.classification} data.",
            )
        )
        return Decision(False, 2, Decimal(0), checks)

    budget = _budget_for(rule, subject.team)
    checks += [
        Check(
            "classification_allowed",
            bool(rule["allowed"]),
            f"{subject.classification.capitalize()} data "
            + ("may" if rule["allowed"] else "may not")
            + " be escalated.",
        ),
        _provider(rule["providers"], subject.provider, subject.model),
        _role(rule["requester_roles"], subject.requester_roles),
        _team(rule["teams"], subject.team),
        _budget(budget, subject),
    ]
    approvals = int(rule["approvals"])
    if subject.classification == RESTRICTED:
        approvals = max(approvals, 2)
    allowed = all(check.passed for check in checks)
    return Decision(allowed, approvals, budget, checks)


def _eligible(spec: dict[str, Any] | None, subject: Subject) -> Check:
    if not spec:
        return Check("eligible_result", True, "Any result of this workload qualifies.")
    verdicts = spec.get("verdicts", [])
    threshold = spec.get("below_confidence")
    if subject.verdict in verdicts:
        return Check(
            "eligible_result", True, f"The result's verdict is {subject.verdict}."
        )
    low = subject.lowest_confidence
    if threshold is not None and low is not None and low < threshold:
        return Check(
            "eligible_result",
            True,
            f"A finding's confidence {low:.2f} is below {threshold:.2f}.",
        )
    return Check(
        "eligible_result",
        False,
        "Only results that need review or have a low-confidence finding may be "
        "escalated.",
    )


def _ceiling(ceiling: str, classification: str) -> Check:
    if rank(classification) > rank(ceiling):
        return Check(
            "classification_ceiling",
            False,
            f"{classification.capitalize()} data is above this workload's "
            f"ceiling ({ceiling}).",
        )
    return Check(
        "classification_ceiling",
        True,
        f"{classification.capitalize()} data is within the ceiling ({ceiling}).",
    )


def _residual(denied: list[str], found: dict[str, int]) -> Check:
    hits = sorted(set(denied) & {name for name, count in found.items() if count})
    if hits:
        return Check(
            "residual_entities",
            False,
            "The request still contains identifiers after redaction: "
            + ", ".join(hits)
            + ".",
        )
    return Check(
        "residual_entities", True, "No denied identifier remains after redaction."
    )


def _provider(providers: dict[str, list[str]], provider: str, model: str) -> Check:
    if provider not in providers:
        return Check(
            "provider_allowed",
            False,
            f"The provider {provider} is not allowed for this data.",
        )
    if model not in providers[provider]:
        return Check(
            "provider_allowed",
            False,
            f"The model {model} of {provider} is not allowed for this data.",
        )
    return Check("provider_allowed", True, f"{provider}/{model} is allowed.")


def _role(allowed: list[str], roles: frozenset[str]) -> Check:
    if set(allowed) & roles:
        return Check("requester_role", True, "The requester's role may escalate.")
    return Check(
        "requester_role",
        False,
        "Only these roles may request this escalation: "
        + (", ".join(sorted(allowed)) or "none")
        + ".",
    )


def _team(allowed: list[str], team: str | None) -> Check:
    if not allowed:
        return Check("team_allowed", True, "Every team may escalate this data.")
    if team in allowed:
        return Check("team_allowed", True, f"The team {team} may escalate.")
    return Check(
        "team_allowed",
        False,
        "Only these teams may request this escalation: " + ", ".join(allowed) + ".",
    )


def _budget_for(rule: dict[str, Any], team: str | None) -> Decimal:
    amount = rule.get("team_budgets", {}).get(team, rule["monthly_budget"])
    return Decimal(str(amount))


def _budget(budget: Decimal, subject: Subject) -> Check:
    total = subject.team_spend + subject.estimated_cost
    if total > budget:
        return Check(
            "budget",
            False,
            f"The team's budget of {budget} this month would be exceeded "
            f"({subject.team_spend} spent or committed, {subject.estimated_cost} "
            "estimated for this request).",
        )
    return Check(
        "budget",
        True,
        f"{total} of the team's {budget} this month, with this request.",
    )
