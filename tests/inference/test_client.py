"""The OpenAI-compatible client against the real llama.cpp server, and the
request shape it sends to vLLM (which cannot run here: a recording proxy that
translates vLLM's dialect to llama.cpp's stands in for it)."""

from __future__ import annotations

import json

import pytest

from appliance.audit.models import AuditEvent
from appliance.audit.services import read_fields
from appliance.inference import client
from appliance.inference.errors import EngineRejected, EngineUnavailable
from appliance.inference.models import ModelCall
from appliance.inference.registry import Engine
from tests.support.engine_proxy import EngineProxy
from tests.support.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "type": "object",
    "properties": {"promises_returns": {"type": "boolean"}},
    "required": ["promises_returns"],
    "additionalProperties": False,
}
REQUEST = client.ChatRequest(
    messages=[
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": "Does 'We guarantee 12% a year' promise returns?"},
    ],
    schema=SCHEMA,
    schema_name="answer",
)


def engine_at(url: str, kind: str = "llamacpp") -> Engine:
    return Engine(
        name="test",
        url=url,
        model="smollm2-135m-instruct",
        kind=kind,
        timeout=60,
        max_tokens=64,
        model_version="q4_1",
    )


def no_scan(payload: bytes) -> None:
    return None


def test_llamacpp_dialect_schema_shape():
    body = client.build_body(engine_at("http://unused/v1"), REQUEST)
    assert body["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert body["logprobs"] is True


def test_vllm_dialect_schema_shape():
    body = client.build_body(engine_at("http://unused/v1", kind="vllm"), REQUEST)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
    }


def test_max_tokens_capped_by_engine():
    request = client.ChatRequest(messages=REQUEST.messages, max_tokens=10_000)
    assert client.build_body(engine_at("http://unused/v1"), request)["max_tokens"] == 64


def test_real_engine_returns_schema_valid_answer(engine):
    result = client.complete(
        engine_at(engine.url),
        REQUEST,
        preflight=no_scan,
        workload="test",
        subject_id="s1",
    )
    assert isinstance(result.parsed["promises_returns"], bool)
    assert result.prompt_tokens > 0
    assert result.completion_tokens > 0
    assert result.logprobs
    offset = result.content.index(
        "true" if result.parsed["promises_returns"] else "false"
    )
    confidence = result.confidence_at(offset, ("false", "true"))
    assert confidence is not None
    assert 0.0 < confidence <= 1.0


def test_call_recorded_with_usage(engine):
    client.complete(
        engine_at(engine.url),
        REQUEST,
        preflight=no_scan,
        workload="test",
        subject_id="s2",
    )
    call = ModelCall.objects.get(subject_id="s2")
    assert call.outcome == "ok"
    assert call.prompt_tokens > 0
    assert call.mean_logprob is not None
    assert call.mean_logprob <= 0
    event = AuditEvent.objects.get(action="model.called", object_id="s2")
    details = read_fields(event)["details"]
    assert details["engine"] == "test"
    assert details["model_version"] == "q4_1"
    assert details["completion_tokens"] == call.completion_tokens


def test_vllm_request_answered_through_proxy(engine):
    with EngineProxy(engine.url, translate_json_schema=True) as vllm:
        result = client.complete(
            engine_at(vllm.url, kind="vllm"),
            REQUEST,
            preflight=no_scan,
            workload="test",
        )
        sent = vllm.bodies()
    assert len(sent) == 1
    assert sent[0]["response_format"]["type"] == "json_schema"
    assert sent[0]["response_format"]["json_schema"]["schema"] == SCHEMA
    assert isinstance(result.parsed["promises_returns"], bool)


def test_preflight_sees_exact_bytes(engine):
    seen: list[bytes] = []
    with EngineProxy(engine.url) as proxy:
        client.complete(
            engine_at(proxy.url), REQUEST, preflight=seen.append, workload="test"
        )
        received = list(proxy.requests)
    assert seen == received


def test_preflight_refusal_sends_nothing(engine):
    def refuse(payload: bytes) -> None:
        raise RuntimeError("blocked")

    with EngineProxy(engine.url) as proxy:
        with pytest.raises(RuntimeError):
            client.complete(
                engine_at(proxy.url), REQUEST, preflight=refuse, workload="test"
            )
        assert proxy.requests == []
    assert ModelCall.objects.get().outcome == "blocked"


def test_engine_down_raises_unavailable():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EngineUnavailable) as error:
        client.complete(engine_at(url), REQUEST, preflight=no_scan, workload="test")
    assert error.value.reason == "engine_unavailable"
    call = ModelCall.objects.get()
    assert (call.outcome, call.attempts) == ("unavailable", client.CALL_ATTEMPTS)
    assert (
        AuditEvent.objects.filter(action="model.called", outcome="failure").count() == 1
    )


def test_wrong_path_raises_rejected(engine):
    url = engine.url.removesuffix("/v1") + "/no-such-api"
    with pytest.raises(EngineRejected):
        client.complete(engine_at(url), REQUEST, preflight=no_scan, workload="test")


def test_engine_error_status_retried_then_unavailable():
    with EngineProxy(None) as broken:
        with pytest.raises(EngineUnavailable):
            client.complete(
                engine_at(broken.url), REQUEST, preflight=no_scan, workload="test"
            )
        assert len(broken.requests) == client.CALL_ATTEMPTS
        assert json.loads(broken.requests[0])["model"] == "smollm2-135m-instruct"
