"""A prompt-injection corpus against the escalation gate: job inputs,
retrieved passages, model outputs and provider answers that ask to escalate,
to reveal the system prompt or to send data elsewhere.

Across the corpus: nothing is sent without an approval, nothing reaches a
host outside the allow-list, and no user other than the requester gets a
re-identified value back from the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.compliance.services import process_job
from appliance.escalation import egress, services
from appliance.escalation.models import EscalationRequest
from appliance.jobs import execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload
from tests.conftest import use_engine
from tests.escalation.conftest import MODEL, PROVIDER, finished_job
from tests.support.provider import FakeProvider

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "injection.yaml").read_text())
NAMES = ("Jane Roe", "Mark Doe")


@pytest.fixture
def attacker(provider, settings):
    """A server on loopback outside the allow-list, which only the provider's
    host and port are on."""
    settings.ESCALATION_ALLOWED_HOSTS = [f"127.0.0.1:{provider.port}"]
    with FakeProvider() as server:
        yield server


def corpus_text(key: str, attacker: FakeProvider) -> list[str]:
    return [text.replace("ATTACKER", attacker.url) for text in CORPUS[key]]


def run_job(owner, text: str) -> Job:
    job = jobs.submit(owner, Workload.COMPLIANCE_CHECK, text=text, enqueue=False)
    execution.execute(str(job.id), process_job)
    return Job.objects.get(id=job.id)


@pytest.mark.slow
def test_inputs_and_passages_trigger_nothing(people, provider, attacker, engine_url):
    owner = people["requester"]
    texts = corpus_text("inputs", attacker) + [
        f"Customer letter under review.\n\n{passage}"
        for passage in corpus_text("passages", attacker)
    ]
    for text in texts:
        job = run_job(owner, text)
        assert job.is_final, job.state

    assert EscalationRequest.objects.count() == 0
    assert provider.received() == []
    assert attacker.received() == []


# A weak pattern hit and no strong one, so the check asks the model.
NEEDS_THE_MODEL = "Our fund is a safe investment."


def test_model_outputs_trigger_nothing(people, provider, attacker, settings):
    original = settings.ENGINE_DEFAULT
    try:
        for output in corpus_text("model_outputs", attacker):
            with FakeProvider(answer=output) as local_engine:
                use_engine(local_engine.url)
                job = run_job(people["requester"], NEEDS_THE_MODEL)
                assert job.is_final, job.state
                assert len(local_engine.received()) >= 1
    finally:
        use_engine(original["url"], original["model"], original["kind"])

    assert EscalationRequest.objects.count() == 0
    assert provider.received() == []
    assert attacker.received() == []


def request_for(client, job) -> dict[str, Any]:
    response = client.post(
        "/api/v1/escalations",
        {"job": str(job.id), "provider": PROVIDER, "model": MODEL},
        format="json",
    )
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.parametrize("answer_index", [0, 1])
def test_provider_answers_stay_with_requester(
    answer_index, people, provider, attacker, api_client_for
):
    provider.answer = corpus_text("provider_answers", attacker)[answer_index]
    requester = people["requester"]
    text = corpus_text("inputs", attacker)[1]
    job = finished_job(requester, text)
    as_requester = api_client_for(requester)
    created = request_for(as_requester, job)

    # An injected call to the egress module before approval sends nothing.
    egress.send(created["id"])
    assert provider.received() == []

    as_approver = api_client_for(people["approver"])
    shown = as_approver.get(f"/api/v1/escalations/{created['id']}").json()
    response = as_approver.post(
        f"/api/v1/escalations/{created['id']}/approve",
        {"body_sha256": shown["body_sha256"], "reason": "Redacted; allowed."},
        format="json",
    )
    assert response.status_code == 200, response.content
    egress.send(created["id"])

    assert provider.received() == [shown["body"].encode()]
    assert attacker.received() == []

    mine = as_requester.get(f"/api/v1/escalations/{created['id']}").json()
    assert "Jane Roe" in mine["answer"] or "Mark Doe" in mine["answer"]
    for other in ("approver", "approver2", "bystander", "admin"):
        client = api_client_for(people[other])
        seen = [
            client.get(f"/api/v1/escalations/{created['id']}").content,
            client.get("/api/v1/escalations").content,
        ]
        for content in seen:
            for name in NAMES:
                assert name.encode() not in content, other


def test_reviewer_requester_sees_pseudonyms(
    people, provider, attacker, api_client_for, make_user
):
    provider.answer = corpus_text("provider_answers", attacker)[0]
    owner = make_user("staff")
    reviewer = people["requester"]
    job = finished_job(owner, CORPUS["inputs"][0], reviewer=reviewer)
    created = request_for(api_client_for(reviewer), job)
    request = EscalationRequest.objects.get(id=created["id"])
    services.approve(
        request,
        people["approver"],
        body_sha256=request.body_sha256,
        reason="Redacted; allowed.",
    )
    egress.send(created["id"])

    seen = api_client_for(reviewer).get(f"/api/v1/escalations/{created['id']}")
    answer = seen.json()["answer"]
    assert "<PERSON_1>" in answer
    assert "Jane Roe" not in answer
    assert attacker.received() == []
