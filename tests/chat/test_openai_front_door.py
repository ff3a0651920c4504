"""The OpenAI-compatible front door, driven by the official OpenAI Python
client against a live server and the real llama.cpp engine."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from appliance.accounts.models import Scope
from appliance.accounts.roles import Role
from appliance.accounts.services import issue_api_key
from appliance.audit.models import AuditEvent
from appliance.audit.services import read_fields
from appliance.inference.models import ModelCall
from appliance.privacy import engines
from appliance.privacy.errors import ReidentificationDenied
from appliance.privacy.redaction import StreamReidentifier, redact
from tests.conftest import use_engine
from tests.support.engine_proxy import EngineProxy

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Jane Roe"
EMAIL = "jane.roe@example.org"
QUESTION = f"Write one short sentence welcoming {NAME} ({EMAIL}) to the bank."


@pytest.fixture
def proxy(engine) -> Iterator[EngineProxy]:
    """A capturing proxy in front of the real engine, used by this process
    (the live server runs in a thread of it)."""
    original = settings.ENGINE_DEFAULT
    with EngineProxy(engine.url) as capturing:
        use_engine(capturing.url)
        yield capturing
    use_engine(str(original["url"]), str(original["model"]), str(original["kind"]))


@pytest.fixture
def sdk(live_server, make_user) -> tuple[openai.OpenAI, object]:
    user = make_user(Role.STAFF)
    key = issue_api_key(user, "sdk").plaintext
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key), user


def assert_redacted(proxy: EngineProxy) -> None:
    bodies = proxy.bodies()
    assert bodies
    for body in bodies:
        sent = str(body["messages"])
        assert NAME not in sent
        assert EMAIL not in sent
        assert "<PERSON_1>" in sent


def test_sdk_gets_redacted_audited_answer(proxy, sdk):
    client, user = sdk
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are a helpful bank assistant."},
            {"role": "user", "content": QUESTION},
        ],
        max_tokens=24,
    )

    assert response.object == "chat.completion"
    assert response.model == settings.ENGINE_DEFAULT["model"]
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].message.content.strip()
    assert 0 < response.usage.completion_tokens <= 24
    assert_redacted(proxy)
    assert proxy.bodies()[0]["max_tokens"] == 24

    answered = AuditEvent.objects.get(action="chat.answered")
    assert answered.actor_id == user.pk
    assert read_fields(answered)["details"]["requested_model"] == "gpt-4o-mini"
    assert AuditEvent.objects.filter(action="chat.redacted").count() == 1
    assert ModelCall.objects.filter(workload="chat", outcome="ok").count() == 1


def test_sdk_streams_redacted_answer(proxy, sdk):
    client, _ = sdk
    stream = client.chat.completions.create(
        model="anything",
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(
        chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices
    )
    assert text.strip()
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert proxy.bodies()[0]["stream"] is True
    assert_redacted(proxy)
    event = AuditEvent.objects.get(action="chat.answered")
    assert read_fields(event)["details"]["streamed"] is True


def test_models_lists_the_chat_model(proxy, sdk):
    client, _ = sdk
    assert [model.id for model in client.models.list()] == [
        settings.ENGINE_DEFAULT["model"]
    ]


def test_engine_down_answers_503_with_retry_after(make_user, settings):
    original = settings.ENGINE_DEFAULT
    with EngineProxy(None) as down:
        use_engine(down.url)
        try:
            client = APIClient()
            client.force_authenticate(make_user(Role.STAFF))
            response = client.post(
                "/v1/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": "Hi"}]},
                format="json",
            )
        finally:
            use_engine(
                str(original["url"]), str(original["model"]), str(original["kind"])
            )
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"]["code"] == "engine_unavailable"


def test_analyzer_fault_sends_nothing(make_user, monkeypatch):
    analyzer = engines.get_analyzer()

    def broken(texts):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(analyzer, "analyze_batch", broken)
    original = settings.ENGINE_DEFAULT
    with EngineProxy(None) as capturing:
        use_engine(capturing.url)
        try:
            client = APIClient()
            client.force_authenticate(make_user(Role.STAFF))
            response = client.post(
                "/v1/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": QUESTION}]},
                format="json",
            )
        finally:
            use_engine(
                str(original["url"]), str(original["model"]), str(original["kind"])
            )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "redaction_failed"
    assert capturing.requests == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "x"}}],
                    }
                ]
            },
            "messages",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages"),
    ],
)
def test_unsupported_requests_rejected(make_user, extra, field):
    client = APIClient()
    client.force_authenticate(make_user(Role.STAFF))
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], **extra}
    response = client.post("/v1/chat/completions", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_key_without_chat_scope_refused(make_user):
    key = issue_api_key(make_user(Role.STAFF), "jobs", scopes=[Scope.JOBS])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")
    response = client.get("/v1/models")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_stream_reidentifier_joins_split_tokens(make_user):
    owner = make_user(Role.STAFF)
    scope = "11111111-2222-3333-4444-555555555555"
    redaction = redact(f"Please greet {NAME} today.", scope_id=scope, owner_id=owner.pk)
    token = next(entity.token for entity in redaction.entities)
    answer = f"Dear {token}, welcome aboard. " + "We are glad to have you. " * 4
    pieces = [answer[i : i + 3] for i in range(0, len(answer), 3)]

    restorer = StreamReidentifier(scope_id=scope, requester=owner)
    shown = "".join(restorer.feed(piece) for piece in pieces) + restorer.close()

    assert shown == answer.replace(token, NAME)
    with pytest.raises(ReidentificationDenied):
        StreamReidentifier(scope_id=scope, requester=make_user(Role.STAFF))


def test_sdk_embeds_redacted_text(sdk):
    client, user = sdk
    response = client.embeddings.create(
        model="text-embedding-3-small",
        input=[f"Leave request from {NAME}", "Leave request from a colleague"],
    )

    assert [item.index for item in response.data] == [0, 1]
    first, second = (item.embedding for item in response.data)
    assert len(first) == 384
    # The name was redacted before embedding, so both texts read alike.
    similarity = sum(a * b for a, b in zip(first, second, strict=True))
    assert similarity > 0.5
    event = AuditEvent.objects.get(action="chat.embedded")
    assert event.actor_id == user.pk
    assert read_fields(event)["details"]["entities"] == 1


def test_embeddings_reject_bad_input(make_user):
    client = APIClient()
    client.force_authenticate(make_user(Role.STAFF))
    for bad in ([], [""], [1, 2], {"text": "x"}):
        response = client.post(
            "/v1/embeddings", {"model": "m", "input": bad}, format="json"
        )
        assert response.status_code == 400, bad
        assert "input" in response.json()["error"]["fields"]
