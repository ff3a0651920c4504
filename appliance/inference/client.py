"""The client for OpenAI-compatible chat completions, local engines only.

The request body is serialized here, once, and those exact bytes are what
``preflight`` (the caller's last privacy scan) inspects and what goes on the
wire. Responses are validated with the ``openai`` package's types.

Engines differ in how they take a JSON schema for structured output:
llama-cpp-python 0.3.36's server answers OpenAI's ``json_schema`` response
format with HTTP 500 and wants ``{"type": "json_object", "schema": ...}``,
while vLLM and OpenAI take ``{"type": "json_schema", "json_schema": ...}``.
``build_body`` speaks each kind's dialect.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import pydantic
from openai.types.chat import ChatCompletion

from appliance.audit.models import Outcome as AuditOutcome
from appliance.audit.services import record
from appliance.inference.errors import (
    EngineRejected,
    EngineUnavailable,
    ModelOutputInvalid,
)
from appliance.inference.models import ModelCall
from appliance.inference.registry import Engine

logger = logging.getLogger(__name__)

# Quick retries inside one call, for a dropped connection or a busy engine.
# Longer outages are the job's business: it fails the call and retries later.
CALL_ATTEMPTS = 2
CONNECT_TIMEOUT = 5.0
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict[str, str]]
    schema: dict[str, Any] | None = None
    schema_name: str = "result"
    max_tokens: int | None = None
    temperature: float = 0.0
    top_logprobs: int = 5


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    # Alternatives the engine reported at this position, token -> logprob.
    top: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatResult:
    content: str
    parsed: Any
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    engine: str
    model: str
    model_version: str
    logprobs: list[TokenLogprob]

    def confidence_at(self, offset: int, alternatives: tuple[str, ...]) -> float | None:
        """Probability of the token at character ``offset`` of the content
        against the tokens that would start one of ``alternatives`` there
        (``true`` against ``false``), from the engine's log-probabilities.

        An alternative missing from the reported top tokens is counted at the
        smallest reported probability, so the figure errs low. Returns None
        when the engine reported no log-probabilities.
        """
        position = 0
        for item in self.logprobs:
            if position <= offset < position + len(item.token):
                return _relative_probability(item, alternatives)
            position += len(item.token)
        return None


def _relative_probability(item: TokenLogprob, alternatives: tuple[str, ...]) -> float:
    chosen = math.exp(item.logprob)
    floor = min([chosen, *(math.exp(lp) for lp in item.top.values())])
    rival = 0.0
    for alternative in alternatives:
        matches = [
            math.exp(lp)
            for token, lp in item.top.items()
            if token.strip()
            and alternative.startswith(token.strip())
            and token != item.token
        ]
        rival += max(matches) if matches else floor
    return round(chosen / (chosen + rival), 4)


def build_body(engine: Engine, request: ChatRequest) -> dict[str, Any]:
    """Build the JSON body in ``engine``'s dialect of the chat completions API."""
    body: dict[str, Any] = {
        "model": engine.model,
        "messages": request.messages,
        "temperature": request.temperature,
        "max_tokens": min(request.max_tokens or engine.max_tokens, engine.max_tokens),
        "logprobs": True,
        "top_logprobs": request.top_logprobs,
    }
    if request.schema is not None:
        if engine.kind == "llamacpp":
            body["response_format"] = {"type": "json_object", "schema": request.schema}
        else:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.schema,
                    "strict": True,
                },
            }
    return body


def serialize(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def complete(
    engine: Engine,
    request: ChatRequest,
    *,
    preflight: Callable[[bytes], None],
    workload: str,
    subject_id: str = "",
) -> ChatResult:
    """Send one chat completion and return the validated result.

    ``preflight`` receives the exact bytes that will be sent, and raises to
    stop the call. It is a required argument, so no caller can skip the
    privacy scan. Raises EngineUnavailable, EngineRejected or
    ModelOutputInvalid.
    """
    payload = serialize(build_body(engine, request))
    call = ModelCall(
        workload=workload,
        subject_id=subject_id,
        engine=engine.name,
        kind=engine.kind,
        model=engine.model,
        model_version=engine.model_version,
    )
    try:
        preflight(payload)
    except Exception:
        _finish(call, ModelCall.Outcome.BLOCKED)
        raise

    started = time.monotonic()
    try:
        data = _post(engine, payload, call)
    except (EngineUnavailable, EngineRejected) as exc:
        call.latency_ms = int((time.monotonic() - started) * 1000)
        outcome = (
            ModelCall.Outcome.UNAVAILABLE
            if isinstance(exc, EngineUnavailable)
            else ModelCall.Outcome.REJECTED
        )
        _finish(call, outcome)
        raise
    call.latency_ms = int((time.monotonic() - started) * 1000)

    try:
        result = _parse(engine, request, data, call.latency_ms)
    except ModelOutputInvalid:
        _finish(call, ModelCall.Outcome.INVALID_OUTPUT)
        raise
    call.prompt_tokens = result.prompt_tokens
    call.completion_tokens = result.completion_tokens
    if result.logprobs:
        total = sum(item.logprob for item in result.logprobs)
        call.mean_logprob = round(total / len(result.logprobs), 4)
    _finish(call, ModelCall.Outcome.OK)
    return result


def _post(engine: Engine, payload: bytes, call: ModelCall) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if engine.api_key:
        headers["Authorization"] = f"Bearer {engine.api_key}"
    timeout = httpx.Timeout(engine.timeout, connect=CONNECT_TIMEOUT)
    url = f"{engine.url}/chat/completions"
    last_error = "no attempt"
    for attempt in range(1, CALL_ATTEMPTS + 1):
        call.attempts = attempt
        try:
            response = httpx.post(
                url, content=payload, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            last_error = "timed out"
        except httpx.TransportError as exc:
            last_error = type(exc).__name__
        else:
            if response.status_code < 400:
                try:
                    data: dict[str, Any] = response.json()
                except ValueError:
                    raise ModelOutputInvalid(
                        "The engine returned invalid JSON."
                    ) from None
                return data
            if response.status_code not in TRANSIENT_STATUS:
                logger.warning(
                    "engine %s rejected the request with HTTP %d",
                    engine.name,
                    response.status_code,
                )
                raise EngineRejected(
                    f"The inference engine rejected the request "
                    f"(HTTP {response.status_code})."
                )
            last_error = f"HTTP {response.status_code}"
        logger.warning(
            "engine %s attempt %d/%d failed: %s",
            engine.name,
            attempt,
            CALL_ATTEMPTS,
            last_error,
        )
        if attempt < CALL_ATTEMPTS:
            time.sleep(0.5 * attempt)
    raise EngineUnavailable(
        f"The inference engine {engine.name} did not respond ({last_error})."
    )


def _parse(
    engine: Engine, request: ChatRequest, data: dict[str, Any], latency_ms: int
) -> ChatResult:
    try:
        completion = ChatCompletion.model_validate(data)
    except pydantic.ValidationError:
        raise ModelOutputInvalid(
            "The engine's response is not a chat completion."
        ) from None
    if not completion.choices:
        raise ModelOutputInvalid("The engine returned no choices.")
    choice = completion.choices[0]
    content = choice.message.content or ""
    parsed: Any = None
    if request.schema is not None:
        try:
            parsed = json.loads(content)
            jsonschema.validate(parsed, request.schema)
        except (ValueError, jsonschema.ValidationError):
            raise ModelOutputInvalid() from None
    logprobs = []
    if choice.logprobs and choice.logprobs.content:
        for item in choice.logprobs.content:
            logprobs.append(
                TokenLogprob(
                    token=item.token,
                    logprob=item.logprob,
                    top={alt.token: alt.logprob for alt in item.top_logprobs or []},
                )
            )
    usage = completion.usage
    return ChatResult(
        content=content,
        parsed=parsed,
        finish_reason=str(choice.finish_reason or ""),
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        latency_ms=latency_ms,
        engine=engine.name,
        model=completion.model or engine.model,
        model_version=engine.model_version,
        logprobs=logprobs,
    )


def _finish(call: ModelCall, outcome: str) -> None:
    call.outcome = outcome
    call.save()
    record(
        "model.called",
        object_type=call.workload,
        object_id=call.subject_id,
        outcome=AuditOutcome.SUCCESS
        if outcome == ModelCall.Outcome.OK
        else AuditOutcome.FAILURE,
        details={
            "engine": call.engine,
            "kind": call.kind,
            "model": call.model,
            "model_version": call.model_version,
            "outcome": outcome,
            "attempts": call.attempts,
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "latency_ms": call.latency_ms,
        },
        durable=outcome != ModelCall.Outcome.OK,
    )
