"""Streamed chat completions (server-sent events from the engine), for
answers that a person watches being written.

The body is built and serialized as in ``client``, with ``stream`` set, and
``preflight`` inspects those exact bytes before anything is sent. The call is
recorded as a ModelCall and audited once the stream ends, however it ends.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import httpx
import pydantic
from openai.types.chat import ChatCompletionChunk

from appliance.inference.client import (
    CONNECT_TIMEOUT,
    TRANSIENT_STATUS,
    ChatRequest,
    _finish,
    build_body,
    serialize,
)
from appliance.inference.errors import (
    EngineRejected,
    EngineUnavailable,
    ModelOutputInvalid,
)
from appliance.inference.models import ModelCall
from appliance.inference.registry import Engine

logger = logging.getLogger(__name__)


def stream_body(engine: Engine, request: ChatRequest) -> bytes:
    body = build_body(engine, request)
    body["stream"] = True
    # Log-probabilities are not needed token by token, and they make every
    # event several times larger.
    body["logprobs"] = False
    body.pop("top_logprobs", None)
    return serialize(body)


def stream(
    engine: Engine,
    request: ChatRequest,
    *,
    preflight: Callable[[bytes], None],
    workload: str,
    subject_id: str = "",
) -> Iterator[str]:
    """Yield the answer's text as the engine writes it.

    ``preflight`` receives the exact bytes that will be sent and raises to
    stop the call. Raises EngineUnavailable or EngineRejected before the
    first piece, EngineUnavailable or ModelOutputInvalid after it.
    """
    payload = stream_body(engine, request)
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
    outcome = ModelCall.Outcome.UNAVAILABLE
    try:
        for piece, usage in _events(engine, payload):
            if usage is not None:
                call.prompt_tokens, call.completion_tokens = usage
            if piece:
                if usage is None:
                    call.completion_tokens += 1
                yield piece
        outcome = ModelCall.Outcome.OK
    except EngineRejected:
        outcome = ModelCall.Outcome.REJECTED
        raise
    except ModelOutputInvalid:
        outcome = ModelCall.Outcome.INVALID_OUTPUT
        raise
    finally:
        call.latency_ms = int((time.monotonic() - started) * 1000)
        _finish(call, outcome)


def _events(
    engine: Engine, payload: bytes
) -> Iterator[tuple[str, tuple[int, int] | None]]:
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if engine.api_key:
        headers["Authorization"] = f"Bearer {engine.api_key}"
    timeout = httpx.Timeout(engine.timeout, connect=CONNECT_TIMEOUT)
    url = f"{engine.url}/chat/completions"
    try:
        with httpx.stream(
            "POST", url, content=payload, headers=headers, timeout=timeout
        ) as response:
            _check_status(engine, response)
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                yield _read_chunk(data)
    except httpx.TimeoutException:
        logger.warning("engine %s timed out while streaming", engine.name)
        raise EngineUnavailable(
            f"The inference engine {engine.name} did not respond (timed out)."
        ) from None
    except httpx.TransportError as exc:
        logger.warning("engine %s stream failed: %s", engine.name, type(exc).__name__)
        raise EngineUnavailable(
            f"The inference engine {engine.name} did not respond "
            f"({type(exc).__name__})."
        ) from None


def _check_status(engine: Engine, response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    response.read()
    if response.status_code in TRANSIENT_STATUS:
        logger.warning("engine %s answered HTTP %d", engine.name, response.status_code)
        raise EngineUnavailable(
            f"The inference engine {engine.name} did not respond "
            f"(HTTP {response.status_code})."
        )
    logger.warning(
        "engine %s rejected the request with HTTP %d",
        engine.name,
        response.status_code,
    )
    raise EngineRejected(
        f"The inference engine rejected the request (HTTP {response.status_code})."
    )


def _read_chunk(data: str) -> tuple[str, tuple[int, int] | None]:
    try:
        chunk = ChatCompletionChunk.model_validate(json.loads(data))
    except (ValueError, pydantic.ValidationError):
        raise ModelOutputInvalid(
            "The engine's stream contains an event that is not a chat completion chunk."
        ) from None
    piece = ""
    if chunk.choices and chunk.choices[0].delta.content:
        piece = chunk.choices[0].delta.content
    usage = None
    if chunk.usage is not None:
        usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
    return piece, usage
