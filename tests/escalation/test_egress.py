"""The egress module against a capturing provider on loopback: the bytes
that arrive are the approved bytes, and every check that fails sends
nothing."""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from appliance.audit.models import AuditEvent
from appliance.escalation import egress, providers, sealing, services
from appliance.escalation.models import EscalationRequest
from appliance.privacy.redaction import TOKEN_PATTERN
from tests.escalation.conftest import MODEL, PROVIDER, finished_job, write_providers
from tests.support.provider import FakeProvider

pytestmark = pytest.mark.django_db(transaction=True)


def requested(people, **proposal) -> EscalationRequest:
    job = finished_job(people["requester"])
    return services.create(
        people["requester"],
        services.Proposal(job=job, provider=PROVIDER, model=MODEL, **proposal),
    )


def approved(people, **proposal) -> EscalationRequest:
    request = requested(people, **proposal)
    assert request.state == "pending", request.evaluation
    return services.approve(
        request,
        people["approver"],
        body_sha256=request.body_sha256,
        reason="Redacted; fine to send.",
    )


def test_arrived_bytes_equal_approved_body(people, provider):
    request = approved(people, question="Is the 12% claim a promise of returns?")
    body = services.body_of(request)

    outcome = egress.send(str(request.id))

    assert outcome.state == "sent"
    assert provider.received() == [body]
    assert hashlib.sha256(provider.received()[0]).hexdigest() == request.body_sha256
    assert provider.headers[0]["Authorization"] == "Bearer sk-test-frontier"


def test_body_is_redacted_and_complete(people, provider):
    request = requested(people)
    body = json.loads(services.body_of(request))

    assert body["model"] == MODEL
    assert body["max_tokens"] == 256
    user_message = body["messages"][1]["content"]
    assert "Jane Roe" not in user_message
    assert "Mark Doe" not in user_message
    assert TOKEN_PATTERN.search(user_message)
    assert "FIN-001" in user_message
    assert request.estimated_prompt_tokens > 0
    assert request.estimated_cost > 0


def test_sent_records_tokens_cost_and_sealed_answer(people, provider):
    request = approved(people)
    egress.send(str(request.id))

    request.refresh_from_db()
    assert request.state == "sent"
    assert (request.prompt_tokens, request.completion_tokens) == (120, 30)
    # 120 * 5 / 1e6 + 30 * 15 / 1e6
    assert request.cost == Decimal("0.001050")
    assert request.answer_sealed is not None
    assert provider.answer.encode() not in bytes(request.answer_sealed)
    assert services.redacted_answer(request) == provider.answer
    event = AuditEvent.objects.get(action="escalation.sent", object_id=str(request.id))
    assert event.outcome == "success"


def test_second_delivery_sends_nothing(people, provider):
    request = approved(people)
    egress.send(str(request.id))
    again = egress.send(str(request.id))

    assert again.state == "sent"
    assert len(provider.received()) == 1


def test_pending_request_is_not_sent(people, provider):
    request = requested(people)
    outcome = egress.send(str(request.id))

    assert outcome.reason == "not_approved"
    assert provider.received() == []
    request.refresh_from_db()
    assert request.state == "pending"


def test_host_outside_allow_list_blocked(people, provider, settings):
    request = approved(people)
    settings.ESCALATION_ALLOWED_HOSTS = ["api.example.com"]

    outcome = egress.send(str(request.id))

    assert (outcome.state, outcome.reason) == ("blocked", "host_not_allowed")
    assert provider.received() == []


def test_expired_after_approval_blocked(people, provider):
    request = approved(people)
    EscalationRequest.objects.filter(id=request.id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    outcome = egress.send(str(request.id))

    assert outcome.state == "expired"
    assert provider.received() == []


def test_residual_identifier_blocks_send(people, provider):
    request = approved(people)
    body = services.body_of(request).replace(
        b"Verdict", b"Mail jane.roe@example.com. Verdict"
    )
    # An edit that keeps the hash in step with the body, as a bug or an
    # attacker with the data key could: the residual scan still stops it.
    digest = hashlib.sha256(body).hexdigest()
    EscalationRequest.objects.filter(id=request.id).update(
        body_sealed=sealing.seal(request.id, sealing.BODY, body), body_sha256=digest
    )
    request.approvals.update(body_sha256=digest)

    outcome = egress.send(str(request.id))

    assert (outcome.state, outcome.reason) == ("blocked", "payload_blocked")
    assert provider.received() == []


def test_redirect_is_not_followed(people, tmp_path, settings):
    with (
        FakeProvider() as elsewhere,
        FakeProvider() as redirecting,
    ):
        redirecting.redirect_to = f"{elsewhere.url}/chat/completions"
        settings.ESCALATION_PROVIDERS_FILE = str(
            write_providers(tmp_path / "p.yaml", redirecting.url)
        )
        settings.ESCALATION_ALLOWED_HOSTS = ["127.0.0.1"]
        providers.reset()
        request = approved(people)

        outcome = egress.send(str(request.id))

        assert (outcome.state, outcome.reason) == ("failed", "provider_rejected")
        assert len(redirecting.received()) == 1
        assert elsewhere.received() == []
    providers.reset()


def test_transient_errors_retried(people, provider, settings):
    settings.ESCALATION_SEND_ATTEMPTS = 3
    provider.statuses = [503, 429]
    request = approved(people)

    outcome = egress.send(str(request.id))

    assert outcome.state == "sent"
    assert len(provider.received()) == 3
    assert len(set(provider.received())) == 1


def test_provider_down_fails_after_attempts(people, provider, settings):
    settings.ESCALATION_SEND_ATTEMPTS = 2
    provider.statuses = [503, 503]
    request = approved(people)

    outcome = egress.send(str(request.id))

    assert (outcome.state, outcome.reason) == ("failed", "provider_unavailable")
    assert AuditEvent.objects.filter(
        action="escalation.send_failed", object_id=str(request.id)
    ).exists()


def test_exhausted_budget_blocks_send(people, provider):
    first = approved(people)
    second = approved(people)
    limit = Decimal(first.evaluation["budget"])
    # The first request's actual cost uses up the rest of the budget.
    egress.send(str(first.id))
    EscalationRequest.objects.filter(id=first.id).update(cost=limit)

    outcome = egress.send(str(second.id))

    assert (outcome.state, outcome.reason) == ("blocked", "budget_exceeded")
    assert len(provider.received()) == 1


def test_only_send_connects_to_provider(people, provider, monkeypatch):
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def watch(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        real_connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", watch)
    request = approved(people)
    services.read_body(request, people["approver"])
    services.answer_for(request, people["requester"])
    to_provider = [
        a for a in attempts if isinstance(a, tuple) and a[1] == provider.port
    ]
    assert to_provider == []

    egress.send(str(request.id))

    to_provider = [
        a for a in attempts if isinstance(a, tuple) and a[1] == provider.port
    ]
    assert to_provider == [("127.0.0.1", provider.port)]
