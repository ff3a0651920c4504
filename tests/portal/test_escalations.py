"""Escalation requests in the portal: a person asks from the job page, sees
the exact body, and another person approves it; nobody approves their own."""

from __future__ import annotations

import pytest
from django.test import Client

from appliance.escalation.models import EscalationRequest, State
from tests.escalation.conftest import MODEL, PROVIDER, finished_job

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def requested(people) -> EscalationRequest:
    job = finished_job(people["requester"])
    client = signed_in(people["requester"])
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert f'value="{PROVIDER}/{MODEL}"' in page
    response = client.post(
        f"/jobs/{job.id}/escalate/",
        {"destination": f"{PROVIDER}/{MODEL}", "question": "Is this compliant?"},
    )
    created = EscalationRequest.objects.get(job=job)
    assert response["Location"] == f"/escalations/{created.id}/"
    return created


def test_request_shows_exact_body(people, provider):
    escalation = requested(people)
    assert escalation.state == State.PENDING
    page = signed_in(people["requester"]).get(f"/escalations/{escalation.id}/")
    text = page.content.decode()
    assert escalation.body_sha256 in text
    assert "Jane Roe" not in text
    assert 'id="decide"' not in text
    mine = signed_in(people["requester"]).get("/escalations/").content.decode()
    assert f"/escalations/{escalation.id}/" in mine


def test_approver_approves_from_queue(people, provider):
    escalation = requested(people)
    client = signed_in(people["approver"])
    queue = client.get("/escalations/approvals/").content.decode()
    assert f"/escalations/{escalation.id}/" in queue
    page = client.get(f"/escalations/{escalation.id}/").content.decode()
    assert 'id="decide"' in page
    response = client.post(
        f"/escalations/{escalation.id}/decide/",
        {
            "decision": "approve",
            "reason": "Needs a second opinion.",
            "body_sha256": escalation.body_sha256,
        },
    )
    assert response["Location"] == "/escalations/approvals/"
    escalation.refresh_from_db()
    assert escalation.approvals.count() == 1


def test_requester_cannot_approve_own(people, provider, make_user):
    from appliance.accounts.roles import Role
    from appliance.accounts.services import assign_role

    assign_role(people["requester"], Role.APPROVER)
    escalation = requested(people)
    client = signed_in(people["requester"])
    queue = client.get("/escalations/approvals/").content.decode()
    assert f"/escalations/{escalation.id}/" not in queue
    client.post(
        f"/escalations/{escalation.id}/decide/",
        {
            "decision": "approve",
            "reason": "My own.",
            "body_sha256": escalation.body_sha256,
        },
    )
    escalation.refresh_from_db()
    assert escalation.approvals.count() == 0
    assert escalation.state == State.PENDING


def test_staff_cannot_open_approvals(people, provider):
    assert (
        signed_in(people["bystander"]).get("/escalations/approvals/").status_code == 403
    )


def test_accept_needs_an_answer(people, provider):
    escalation = requested(people)
    client = signed_in(people["requester"])
    response = client.post(f"/escalations/{escalation.id}/accept/", follow=True)
    assert "has no answer yet" in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.answer_accepted_at is None


def test_decision_missing_changes_nothing(people, provider):
    escalation = requested(people)
    client = signed_in(people["approver"])
    response = client.post(
        f"/escalations/{escalation.id}/decide/",
        {"reason": "Forgot to choose.", "body_sha256": escalation.body_sha256},
        follow=True,
    )
    assert "Choose approve or reject." in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.state == State.PENDING
    assert escalation.approvals.count() == 0
