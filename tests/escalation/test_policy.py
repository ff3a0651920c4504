"""Policy documents: validation of the seed and of edits, classification,
and evaluation, which reports every check with its outcome."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from appliance.escalation import policy

SEED = policy.read_seed()


def subject(**changes: Any) -> policy.Subject:
    values: dict[str, Any] = {
        "workload": "compliance_check",
        "classification": "confidential",
        "requester_roles": frozenset({"reviewer"}),
        "team": "Compliance",
        "provider": "frontier",
        "model": "frontier-large",
        "estimated_cost": Decimal("0.01"),
        "team_spend": Decimal("0"),
        "residual_entities": {},
        "verdict": "needs_review",
        "lowest_confidence": 0.55,
    }
    values.update(changes)
    return policy.Subject(**values)


def failed(decision: policy.Decision) -> list[str]:
    return [check.code for check in decision.reasons]


def test_seed_allows_reviewer_with_one_approval():
    decision = policy.evaluate(SEED, subject())
    assert decision.allowed
    assert decision.approvals_required == 1
    assert failed(decision) == []
    assert {check.code for check in decision.checks} >= {
        "eligible_result",
        "classification_ceiling",
        "residual_entities",
        "provider_allowed",
        "requester_role",
        "team_allowed",
        "budget",
    }


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"workload": "hr_question"}, ["workload_covered"]),
        (
            {"classification": "restricted"},
            ["classification_allowed", "provider_allowed", "requester_role", "budget"],
        ),
        ({"requester_roles": frozenset({"staff"})}, ["requester_role"]),
        ({"provider": "other"}, ["provider_allowed"]),
        ({"model": "frontier-small"}, ["provider_allowed"]),
        ({"team_spend": Decimal("99.995")}, ["budget"]),
        ({"residual_entities": {"US_SSN": 1}}, ["residual_entities"]),
        ({"verdict": "pass", "lowest_confidence": 0.9}, ["eligible_result"]),
        (
            {"requester_roles": frozenset({"staff"}), "team_spend": Decimal(500)},
            ["requester_role", "budget"],
        ),
    ],
)
def test_denial_lists_every_reason(changes, reasons):
    decision = policy.evaluate(SEED, subject(**changes))
    assert not decision.allowed
    assert failed(decision) == reasons


def test_low_confidence_makes_result_eligible():
    decision = policy.evaluate(SEED, subject(verdict="pass", lowest_confidence=0.4))
    assert decision.allowed


def test_ceiling_denies_higher_classification():
    document = copy.deepcopy(SEED)
    document["workloads"]["compliance_check"]["classification_ceiling"] = "internal"
    decision = policy.evaluate(document, subject())
    assert failed(decision) == ["classification_ceiling"]


def test_team_list_and_team_budget():
    document = copy.deepcopy(SEED)
    rule = document["workloads"]["compliance_check"]["rules"]["confidential"]
    rule["teams"] = ["Legal"]
    rule["team_budgets"] = {"Legal": 5}
    assert failed(policy.evaluate(document, subject())) == ["team_allowed"]
    legal = policy.evaluate(document, subject(team="Legal", team_spend=Decimal(5)))
    assert legal.budget == Decimal(5)
    assert failed(legal) == ["budget"]


def test_restricted_always_needs_two_approvals():
    document = copy.deepcopy(SEED)
    rule = document["workloads"]["compliance_check"]["rules"]["restricted"]
    rule.update(
        allowed=True,
        providers={"frontier": ["frontier-large"]},
        requester_roles=["reviewer"],
        monthly_budget=10,
    )
    decision = policy.evaluate(
        policy.validate(document), subject(classification="restricted")
    )
    assert decision.allowed
    assert decision.approvals_required == 2


def test_restricted_with_one_approval_is_invalid():
    document = copy.deepcopy(SEED)
    rule = document["workloads"]["compliance_check"]["rules"]["restricted"]
    rule.update(allowed=True, approvals=1)
    with pytest.raises(policy.InvalidPolicy, match="two approvals"):
        policy.validate(document)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.pop("classify"), "(top level)"),
        (
            lambda d: d["workloads"]["compliance_check"]["rules"]["internal"].update(
                approvals=3
            ),
            "workloads/compliance_check/rules/internal/approvals",
        ),
        (
            lambda d: d["workloads"]["compliance_check"].update(
                classification_ceiling="secret"
            ),
            "workloads/compliance_check/classification_ceiling",
        ),
    ],
)
def test_invalid_document_names_the_place(mutate, where):
    document = copy.deepcopy(SEED)
    mutate(document)
    with pytest.raises(policy.InvalidPolicy) as raised:
        policy.validate(document)
    assert where in str(raised.value)


@pytest.mark.parametrize(
    ("entities", "declared", "expected"),
    [
        (set(), None, "internal"),
        ({"PERSON"}, None, "confidential"),
        ({"PERSON", "US_SSN"}, None, "restricted"),
        ({"PERSON"}, "public", "confidential"),
        (set(), "restricted", "restricted"),
    ],
)
def test_classification_never_below_entities(entities, declared, expected):
    assert policy.classify(SEED, entities, declared) == expected
