"""Property-based tests of the approval gate: over generated policies,
requester roles, sequences of decisions, expiry, edits of the stored body
and budget exhaustion, nothing reaches the provider unless the request was
approved by enough people other than the requester, for the exact bytes
that arrive, before it expired and within budget."""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.accounts.models import Team, User
from appliance.accounts.roles import Role
from appliance.accounts.services import create_user
from appliance.escalation import egress, policy, sealing, services
from appliance.escalation.errors import EscalationError, NotAllowed
from appliance.escalation.models import EscalationRequest, PolicyVersion
from tests.escalation.conftest import MODEL, PROVIDER, finished_job

pytestmark = pytest.mark.django_db(transaction=True)

ACTORS = ("requester", "approver1", "approver2", "staff")
actions = st.lists(
    st.one_of(
        st.tuples(st.just("approve"), st.sampled_from(ACTORS)),
        st.tuples(st.just("reject"), st.sampled_from(ACTORS)),
        st.tuples(st.just("send"), st.none()),
        st.tuples(st.just("expire"), st.none()),
        st.tuples(st.just("edit"), st.booleans()),
        st.tuples(st.just("exhaust"), st.none()),
    ),
    min_size=1,
    max_size=8,
)
scenarios = st.fixed_dictionaries(
    {
        "classification": st.sampled_from(["confidential", "restricted"]),
        "approvals": st.sampled_from([1, 2]),
        "requester_role": st.sampled_from([Role.STAFF, Role.REVIEWER]),
        "allowed_roles": st.sets(st.sampled_from(["staff", "reviewer"]), min_size=1),
        "budget": st.sampled_from([0, 1, 100]),
        "actions": actions,
    }
)


def policy_document(scenario: dict[str, Any]) -> dict[str, Any]:
    """A policy from the scenario. The restricted rule may ask for one
    approval: stored without validation, as a document edited in the
    database would be, it must still need two."""
    document = copy.deepcopy(policy.read_seed())
    document["workloads"]["compliance_check"].pop("eligible")
    for name in ("confidential", "restricted"):
        document["workloads"]["compliance_check"]["rules"][name] = {
            "allowed": True,
            "providers": {PROVIDER: [MODEL]},
            "requester_roles": sorted(scenario["allowed_roles"]),
            "teams": [],
            "approvals": scenario["approvals"],
            "monthly_budget": scenario["budget"],
        }
    return document


@dataclass
class Model:
    """The test's record of what happened, to judge each send against."""

    required: int
    approvers: set[int] = field(default_factory=set)
    rejected: bool = False
    expired: bool = False
    edited: bool = False
    exhausted: bool = False

    def may_send(self, requester: User) -> bool:
        return (
            len(self.approvers) >= self.required
            and requester.pk not in self.approvers
            and not (self.rejected or self.expired or self.edited or self.exhausted)
        )


def make_people(role: Role) -> dict[str, User]:
    suffix = uuid.uuid4().hex[:8]
    team = Team.objects.create(name=f"team-{suffix}")
    people = {
        "requester": create_user(f"req-{suffix}", roles=[role], team=team),
        "approver1": create_user(f"ap1-{suffix}", roles=[Role.APPROVER]),
        "approver2": create_user(f"ap2-{suffix}", roles=[Role.APPROVER]),
        "staff": create_user(f"staff-{suffix}", roles=[Role.STAFF]),
    }
    return people


def decide(
    kind: str, request: EscalationRequest, actor: User, people: dict[str, User]
) -> bool:
    decide_fn = services.approve if kind == "approve" else services.reject
    try:
        decide_fn(request, actor, body_sha256=request.body_sha256, reason="checked")
    except NotAllowed:
        assert actor.pk == people["requester"].pk or not actor.has_perm(
            "escalation.approve_escalation"
        )
        return False
    except EscalationError:
        return False
    assert actor.pk != people["requester"].pk
    return True


def run_action(
    action: tuple[str, Any],
    request: EscalationRequest,
    people: dict[str, User],
    model: Model,
) -> None:
    kind, argument = action
    if kind in ("approve", "reject"):
        if decide(kind, request, people[argument], people):
            if kind == "approve":
                model.approvers.add(people[argument].pk)
            else:
                model.rejected = True
    elif kind == "expire":
        EscalationRequest.objects.filter(id=request.id).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        model.expired = True
    elif kind == "edit":
        body = services.body_of(request).replace(b"Findings", b"Findings (edited)")
        changes: dict[str, Any] = {
            "body_sealed": sealing.seal(request.id, sealing.BODY, body)
        }
        if argument:  # keep the stored hash in step with the edited body
            changes["body_sha256"] = hashlib.sha256(body).hexdigest()
        EscalationRequest.objects.filter(id=request.id).update(**changes)
        model.edited = True
    elif kind == "exhaust":
        spent = EscalationRequest.objects.get(id=request.id)
        spent.pk = uuid.uuid4()
        spent.state = "sent"
        spent.cost = Decimal(spent.evaluation["budget"]) + 1
        spent.save()
        model.exhausted = True


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios)
def test_nothing_leaves_without_the_gate(scenario, provider, roles):
    people = make_people(scenario["requester_role"])
    top = PolicyVersion.objects.order_by("-version").first()
    PolicyVersion.objects.create(
        version=(top.version if top else 0) + 1,
        document=policy_document(scenario),
        source="edit",
    )
    job = finished_job(people["requester"])
    request = services.create(
        people["requester"],
        services.Proposal(
            job=job,
            provider=PROVIDER,
            model=MODEL,
            classification=scenario["classification"],
        ),
    )
    original = services.body_of(request)
    required = scenario["approvals"]
    if scenario["classification"] == "restricted":
        required = 2
    assert request.approvals_required == required
    model = Model(required=required)
    if request.state == "denied":
        model.required = 10**6  # nothing may be sent

    for action in [*scenario["actions"], ("send", None)]:
        if action[0] != "send":
            run_action(action, request, people, model)
            continue
        before = len(provider.received())
        request.refresh_from_db()
        was_approved = request.state == "approved"
        egress.send(str(request.id))
        arrived = provider.received()[before:]
        request.refresh_from_db()

        if arrived:
            assert model.may_send(people["requester"]), (scenario, model)
            assert arrived == [original]
            digest = hashlib.sha256(arrived[0]).hexdigest()
            approvals = request.approvals.filter(decision="approve")
            assert {a.body_sha256 for a in approvals} == {digest}
            approvers = {a.approver_id for a in approvals}
            assert people["requester"].pk not in approvers
            assert len(approvers) >= required
        elif was_approved and model.may_send(people["requester"]):
            pytest.fail(f"an approved request was not sent: {request.reason}")
