"""The escalation API walked end to end: a real compliance job through a real
worker and the real model, a request by its owner, approval by a second
person, the send by the worker to a capturing provider on loopback, the
re-identified answer, its acceptance and the distillation export, each step
with its audit event. Plus the API's refusals."""

from __future__ import annotations

import copy
import hashlib
import io
import json

import pytest
from django.core.management import call_command

from appliance.accounts.models import Team
from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.audit.services import read_fields
from appliance.escalation import policy, providers, versions
from appliance.escalation.models import EscalationRequest
from appliance.jobs.models import Job
from tests.escalation.conftest import MODEL, PROVIDER, finished_job, write_providers
from tests.support.polling import wait_until
from tests.support.provider import FakeProvider

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = (
    "Message from Jane Roe to a client: our Atlas fund has never lost money "
    "and returns 12% a year, guaranteed."
)
PASSWORD = "correct horse battery staple"


def audited(action: str, object_id: object, actor=None) -> AuditEvent:
    events = AuditEvent.objects.filter(action=action, object_id=str(object_id))
    if actor is not None:
        events = events.filter(actor_id=actor.pk)
    event = events.first()
    assert event is not None, f"no audit event {action} for {object_id}"
    return event


@pytest.mark.slow
def test_request_approve_send_answer(
    make_user, api_client_for, engine_url, worker_factory, tmp_path, settings
):
    team = Team.objects.create(name="Compliance")
    requester = make_user(Role.REVIEWER, "rita")
    requester.team = team
    requester.save()
    approver = make_user(Role.APPROVER, "alex")
    admin = make_user(Role.ADMIN, "ada")
    admin.set_password(PASSWORD)
    admin.save()

    # The model's verdict on this text may be fail or needs_review: this
    # policy lets any verdict be escalated.
    document = copy.deepcopy(policy.read_seed())
    document["workloads"]["compliance_check"].pop("eligible")
    published = versions.publish(document, admin, "any verdict")
    audited("escalation.policy_published", published.version, admin)

    with FakeProvider(answer="<PERSON_1> promised guaranteed returns.") as provider:
        providers_file = write_providers(tmp_path / "providers.yaml", provider.url)
        settings.ESCALATION_PROVIDERS_FILE = str(providers_file)
        settings.ESCALATION_ALLOWED_HOSTS = ["127.0.0.1"]
        providers.reset()
        worker_factory(
            "escalation",
            engine_url,
            APPLIANCE_ESCALATION_PROVIDERS_FILE=str(providers_file),
            APPLIANCE_ESCALATION_ALLOWED_HOSTS="127.0.0.1",
        )
        as_requester = api_client_for(requester)
        as_approver = api_client_for(approver)

        # 1. The job, through the worker and the real model.
        response = as_requester.post(
            "/api/v1/compliance-checks", {"text": TEXT}, format="json"
        )
        assert response.status_code == 202, response.content
        job = wait_until(
            lambda: Job.objects.filter(
                id=response.json()["id"], state__in=["succeeded", "failed"]
            ).first(),
            timeout=240,
            what="the compliance job to finish",
        )
        assert job.state == "succeeded", job.reason

        # 2. The request, by the job's owner.
        response = as_requester.post(
            "/api/v1/escalations",
            {"job": str(job.id), "provider": PROVIDER, "model": MODEL},
            format="json",
        )
        assert response.status_code == 201, response.content
        created = response.json()
        escalation_id = created["id"]
        assert created["state"] == "pending", created["evaluation"]
        assert created["classification"] == "confidential"
        assert "Jane Roe" not in created["body"]
        requested = audited("escalation.requested", escalation_id, requester)
        assert requested.outcome == "success"

        # 3. The requester may not approve their own request.
        own = as_requester.post(
            f"/api/v1/escalations/{escalation_id}/approve",
            {"body_sha256": created["body_sha256"], "reason": "mine"},
            format="json",
        )
        assert own.status_code == 403
        assert own.json()["error"]["code"] == "permission_denied"

        # 4. The approver sees the exact body and approves its SHA-256.
        shown = as_approver.get(f"/api/v1/escalations/{escalation_id}").json()
        body = shown["body"].encode()
        assert hashlib.sha256(body).hexdigest() == shown["body_sha256"]
        assert shown["answer"] is None
        audited("escalation.body_viewed", escalation_id, approver)
        response = as_approver.post(
            f"/api/v1/escalations/{escalation_id}/approve",
            {"body_sha256": shown["body_sha256"], "reason": "Redacted; allowed."},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "approved"
        audited("escalation.approved", escalation_id, approver)

        # 5. The worker sends the approved bytes.
        sent = wait_until(
            lambda: EscalationRequest.objects.filter(
                id=escalation_id, state__in=["sent", "failed", "blocked"]
            ).first(),
            timeout=60,
            what="the worker to send the escalation",
        )
        assert sent.state == "sent", sent.reason
        assert provider.received() == [body]
        details = read_fields(audited("escalation.sent", escalation_id))["details"]
        assert details["body_sha256"] == shown["body_sha256"]
        assert details["prompt_tokens"] == 120

    # 6. The answer, re-identified for the requester only.
    mine = as_requester.get(f"/api/v1/escalations/{escalation_id}").json()
    assert mine["answer"] == "Jane Roe promised guaranteed returns."
    assert (mine["prompt_tokens"], mine["completion_tokens"]) == (120, 30)
    audited("privacy.reidentified", f"job:{job.id}", requester)
    theirs = as_approver.get(f"/api/v1/escalations/{escalation_id}").json()
    assert theirs["answer"] is None

    # 7. Accepted, it becomes a distillation example.
    response = as_requester.post(f"/api/v1/escalations/{escalation_id}/accept")
    assert response.status_code == 200, response.content
    audited("escalation.answer_accepted", escalation_id, requester)
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    output = tmp_path / "dataset.jsonl"
    call_command(
        "export_distillation",
        workload="compliance_check",
        output=output,
        user="ada",
        password_file=password_file,
        stdout=io.StringIO(),
    )
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["metadata"]["provider"] == PROVIDER
    assert lines[0]["messages"][-1] == {
        "role": "assistant",
        "content": "<PERSON_1> promised guaranteed returns.",
    }
    assert "Jane Roe" not in output.read_text()
    audited("escalation.distillation_exported", "compliance_check", admin)


@pytest.fixture
def provider(tmp_path, settings):
    with FakeProvider() as server:
        settings.ESCALATION_PROVIDERS_FILE = str(
            write_providers(tmp_path / "providers.yaml", server.url)
        )
        settings.ESCALATION_ALLOWED_HOSTS = ["127.0.0.1"]
        providers.reset()
        yield server
    providers.reset()


def test_other_users_cannot_escalate_a_job(make_user, api_client_for, provider):
    owner = make_user(Role.REVIEWER)
    job = finished_job(owner)
    response = api_client_for(make_user(Role.REVIEWER)).post(
        "/api/v1/escalations",
        {"job": str(job.id), "provider": PROVIDER, "model": MODEL},
        format="json",
    )
    assert response.status_code == 404
    assert EscalationRequest.objects.count() == 0


def test_denied_request_lists_reasons(make_user, api_client_for, provider):
    owner = make_user(Role.STAFF)
    job = finished_job(owner)
    response = api_client_for(owner).post(
        "/api/v1/escalations",
        {"job": str(job.id), "provider": PROVIDER, "model": MODEL},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "denied"
    failed = [c["code"] for c in data["evaluation"]["checks"] if not c["passed"]]
    assert failed == ["requester_role"]
    assert audited("escalation.requested", data["id"]).outcome == "denied"


def test_unknown_provider_rejected(make_user, api_client_for, provider):
    owner = make_user(Role.REVIEWER)
    job = finished_job(owner)
    response = api_client_for(owner).post(
        "/api/v1/escalations",
        {"job": str(job.id), "provider": "elsewhere", "model": MODEL},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "provider_not_configured"


def test_approval_needs_matching_sha256(make_user, api_client_for, provider):
    owner = make_user(Role.REVIEWER)
    job = finished_job(owner)
    created = (
        api_client_for(owner)
        .post(
            "/api/v1/escalations",
            {"job": str(job.id), "provider": PROVIDER, "model": MODEL},
            format="json",
        )
        .json()
    )
    response = api_client_for(make_user(Role.APPROVER)).post(
        f"/api/v1/escalations/{created['id']}/approve",
        {"body_sha256": "0" * 64, "reason": "looks fine"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "body_changed"
    assert EscalationRequest.objects.get(id=created["id"]).state == "pending"


def test_staff_cannot_approve_or_see_others(make_user, api_client_for, provider):
    owner = make_user(Role.REVIEWER)
    job = finished_job(owner)
    created = (
        api_client_for(owner)
        .post(
            "/api/v1/escalations",
            {"job": str(job.id), "provider": PROVIDER, "model": MODEL},
            format="json",
        )
        .json()
    )
    staff = api_client_for(make_user(Role.STAFF))
    assert staff.get(f"/api/v1/escalations/{created['id']}").status_code == 404
    response = staff.post(
        f"/api/v1/escalations/{created['id']}/approve",
        {"body_sha256": created["body_sha256"], "reason": "sure"},
        format="json",
    )
    assert response.status_code == 403
    assert staff.get("/api/v1/escalations").json()["results"] == []


def test_policy_published_by_admin_only(make_user, api_client_for):
    admin = api_client_for(make_user(Role.ADMIN))
    current = admin.get("/api/v1/escalation-policy").json()
    assert current["version"] == 1
    assert current["source"] == "seed"
    document = current["document"]
    document["workloads"]["compliance_check"]["rules"]["internal"]["approvals"] = 2

    staff = api_client_for(make_user(Role.STAFF))
    refused = staff.post(
        "/api/v1/escalation-policy", {"document": document}, format="json"
    )
    assert refused.status_code == 403

    response = admin.post(
        "/api/v1/escalation-policy",
        {"document": document, "comment": "two approvals"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2
    assert audited("escalation.policy_published", 2).actor_id is not None
    assert staff.get("/api/v1/escalation-policy").status_code == 403
    shown = admin.get("/api/v1/escalation-policy").json()
    assert shown["document"] == document


def test_invalid_policy_rejected(make_user, api_client_for):
    admin = api_client_for(make_user(Role.ADMIN))
    response = admin.post(
        "/api/v1/escalation-policy",
        {"document": {"classify": {"default": "secret"}, "workloads": {}}},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_policy"
    assert "classify/default" in error["message"]


def test_auditor_cannot_read_policy(make_user, api_client_for):
    auditor = api_client_for(make_user(Role.AUDITOR))
    assert auditor.get("/api/v1/escalation-policy").status_code == 403


def test_repeated_request_with_key_creates_one(make_user, api_client_for, provider):
    owner = make_user(Role.REVIEWER)
    job = finished_job(owner)
    client = api_client_for(owner)
    payload = {"job": str(job.id), "provider": PROVIDER, "model": MODEL}
    first = client.post(
        "/api/v1/escalations", payload, format="json", HTTP_IDEMPOTENCY_KEY="esc-1"
    )
    again = client.post(
        "/api/v1/escalations", payload, format="json", HTTP_IDEMPOTENCY_KEY="esc-1"
    )
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert EscalationRequest.objects.count() == 1
