"""An OpenAI-compatible front door: ``POST /v1/chat/completions`` (streamed
or not) and ``GET /v1/models``, so that an OpenAI SDK client pointed at the
appliance gets redaction, the local model and the audit log without code
changes. Parse, authorize and call ``appliance.chat.services``.

Whatever model the client names, the local chat model answers, and the
response's ``model`` field names it. Tools, images, ``n`` above 1 and JSON
response formats are rejected with a clear error rather than ignored.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appliance.api.errors import ApiProblem, error_body
from appliance.api.permissions import CanSubmitJobs
from appliance.api.serializers import ERROR_RESPONSES
from appliance.chat import services as chat
from appliance.errors import ApplianceError
from appliance.hr.embeddings import EmbeddingsInvalid, EmbeddingsUnavailable
from appliance.inference.errors import (
    EngineRejected,
    EngineUnavailable,
    ModelOutputInvalid,
)
from appliance.privacy.errors import PayloadBlocked, RedactionFailed

# OpenAI's "developer" role is the newer name for "system".
ROLE_ALIASES = {"developer": "system"}
UNSUPPORTED = ("tools", "functions", "tool_choice", "function_call", "audio")
ENGINE_RETRY_AFTER = "5"


class ChatCompletionRequest(serializers.Serializer[Any]):
    model = serializers.CharField(max_length=200)
    messages = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=500
    )
    stream = serializers.BooleanField(default=False)
    stream_options = serializers.DictField(required=False, allow_null=True)
    max_tokens = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    max_completion_tokens = serializers.IntegerField(
        min_value=1, required=False, allow_null=True
    )
    temperature = serializers.FloatField(
        min_value=0, max_value=2, required=False, allow_null=True
    )
    n = serializers.IntegerField(min_value=1, max_value=1, required=False)
    response_format = serializers.DictField(required=False, allow_null=True)


def _message_text(index: int, message: dict[str, Any]) -> tuple[str, str]:
    role = ROLE_ALIASES.get(message.get("role", ""), message.get("role", ""))
    if role not in chat.ROLES:
        raise ValidationError(
            {"messages": [f"Message {index}: role must be system, user or assistant."]}
        )
    content = message.get("content")
    if isinstance(content, str):
        return role, content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise ValidationError(
                    {"messages": [f"Message {index}: only text content is supported."]}
                )
            texts.append(str(part.get("text", "")))
        return role, "\n".join(texts)
    raise ValidationError(
        {"messages": [f"Message {index}: content must be a string or text parts."]}
    )


def parse(data: Any) -> tuple[chat.Conversation, bool, bool]:
    """Validate a chat completion request; return the conversation, whether
    to stream and whether to send usage at the end of the stream."""
    if isinstance(data, dict):
        for name in UNSUPPORTED:
            if data.get(name):
                raise ValidationError({name: ["Not supported by this appliance."]})
    serializer = ChatCompletionRequest(data=data)
    serializer.is_valid(raise_exception=True)
    valid = serializer.validated_data
    response_format = valid.get("response_format") or {}
    if response_format.get("type", "text") != "text":
        raise ValidationError(
            {"response_format": ["Only the text response format is supported."]}
        )
    messages = [
        _message_text(index, message) for index, message in enumerate(valid["messages"])
    ]
    if sum(len(text) for _, text in messages) > settings.MAX_INPUT_CHARS:
        raise ValidationError(
            {
                "messages": [
                    f"The messages exceed {settings.MAX_INPUT_CHARS} characters."
                ]
            }
        )
    conversation = chat.Conversation(
        messages=messages,
        requested_model=valid["model"],
        max_tokens=valid.get("max_completion_tokens") or valid.get("max_tokens"),
        temperature=valid.get("temperature") or 0.0,
    )
    options = valid.get("stream_options") or {}
    return conversation, valid["stream"], bool(options.get("include_usage"))


def problem_for(exc: ApplianceError) -> ApiProblem:
    """Map a failed chat request to its HTTP status and error code."""
    if isinstance(exc, (EngineUnavailable, RedactionFailed, EmbeddingsUnavailable)):
        return ApiProblem(
            exc.reason,
            f"{exc.message} Try again shortly.",
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": ENGINE_RETRY_AFTER},
        )
    if isinstance(exc, PayloadBlocked):
        return ApiProblem(exc.reason, exc.message, status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, (EngineRejected, ModelOutputInvalid, EmbeddingsInvalid)):
        return ApiProblem(exc.reason, exc.message, status.HTTP_502_BAD_GATEWAY)
    return ApiProblem(exc.reason, exc.message, status.HTTP_500_INTERNAL_SERVER_ERROR)


def _event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _chunk(
    completion_id: str, created: int, model: str, delta: dict[str, Any], finish: Any
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _events(answer: chat.Stream, include_usage: bool) -> Iterator[bytes]:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    model = answer.model
    yield _event(
        _chunk(
            completion_id, created, model, {"role": "assistant", "content": ""}, None
        )
    )
    try:
        for piece in answer.pieces:
            yield _event(
                _chunk(completion_id, created, model, {"content": piece}, None)
            )
    except ApplianceError as exc:
        # The status line has gone out: report the failure as an event, which
        # OpenAI's clients raise as an APIError.
        problem = problem_for(exc)
        yield _event(error_body(problem.code, problem.message))
        return
    yield _event(_chunk(completion_id, created, model, {}, "stop"))
    if include_usage:
        usage = {"prompt_tokens": 0, **answer.usage}
        usage["total_tokens"] = usage["prompt_tokens"] + usage.get(
            "completion_tokens", 0
        )
        yield _event(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
        )
    yield b"data: [DONE]\n\n"


class ChatCompletions(APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]

    @extend_schema(
        request=ChatCompletionRequest,
        responses={200: dict, 503: dict, **ERROR_RESPONSES},
        summary="OpenAI-compatible chat completion, answered by the local model",
    )
    def post(self, request: Request) -> Any:
        conversation, streamed, include_usage = parse(request.data)
        user = request.user
        try:
            if streamed:
                answer = chat.stream(user, conversation)  # type: ignore[arg-type]
                response = StreamingHttpResponse(
                    _events(answer, include_usage), content_type="text/event-stream"
                )
                response["Cache-Control"] = "no-store"
                response["X-Accel-Buffering"] = "no"
                return response
            result = chat.complete(user, conversation)  # type: ignore[arg-type]
        except ApplianceError as exc:
            raise problem_for(exc) from None
        return Response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": result.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": result.text},
                        "finish_reason": result.finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "total_tokens": result.prompt_tokens + result.completion_tokens,
                },
            }
        )


class Models(APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]

    @extend_schema(responses={200: dict}, summary="The model that answers chat")
    def get(self, request: Request) -> Response:
        return Response(
            {
                "object": "list",
                "data": [
                    {
                        "id": chat.chat_model(),
                        "object": "model",
                        "created": 0,
                        "owned_by": "appliance",
                    }
                ],
            }
        )


class EmbeddingRequest(serializers.Serializer[Any]):
    model = serializers.CharField(max_length=200)
    input = serializers.JSONField()
    # OpenAI's Python client asks for base64 (float32, little-endian) unless
    # told otherwise.
    encoding_format = serializers.ChoiceField(
        choices=["float", "base64"], required=False, default="float"
    )


MAX_EMBEDDING_INPUTS = 256


def _embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_EMBEDDING_INPUTS
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise ValidationError(
            {
                "input": [
                    "A non-empty string, or a list of 1 to "
                    f"{MAX_EMBEDDING_INPUTS} non-empty strings."
                ]
            }
        )
    if sum(len(item) for item in value) > settings.MAX_INPUT_CHARS:
        raise ValidationError(
            {"input": [f"The input exceeds {settings.MAX_INPUT_CHARS} characters."]}
        )
    return list(value)


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


class Embeddings(APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]

    @extend_schema(
        request=EmbeddingRequest,
        responses={200: dict, 503: dict, **ERROR_RESPONSES},
        summary="OpenAI-compatible embeddings of redacted text",
    )
    def post(self, request: Request) -> Response:
        serializer = EmbeddingRequest(data=request.data)
        serializer.is_valid(raise_exception=True)
        texts = _embedding_inputs(serializer.validated_data["input"])
        encoding = serializer.validated_data["encoding_format"]
        try:
            result = chat.embed(
                request.user,  # type: ignore[arg-type]
                texts,
                serializer.validated_data["model"],
            )
        except ApplianceError as exc:
            raise problem_for(exc) from None
        return Response(
            {
                "object": "list",
                "model": result.model,
                "data": [
                    {
                        "object": "embedding",
                        "index": index,
                        "embedding": _encoded(vector, encoding),
                    }
                    for index, vector in enumerate(result.vectors)
                ],
                "usage": {
                    "prompt_tokens": result.tokens,
                    "total_tokens": result.tokens,
                },
            }
        )
