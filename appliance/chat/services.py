"""Chat for OpenAI-compatible clients: the messages are redacted in a scope
of their own, answered by the local chat model, and re-identified for the
caller only.

Each request gets a new privacy scope, so pseudonyms are stable across the
messages of one request (an OpenAI client resends the whole conversation
every time). Nothing here reaches an external provider: escalation needs a
person's request and an approval, which this path never makes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from appliance.accounts.models import User
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.inference import client, registry, streaming
from appliance.inference.client import ChatRequest
from appliance.privacy import residual
from appliance.privacy.redaction import (
    StreamReidentifier,
    redact_many,
    reidentify,
)

logger = logging.getLogger(__name__)

WORKLOAD = "chat"
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Conversation:
    """A validated request: messages as (role, text) and the options used."""

    messages: list[tuple[str, str]]
    requested_model: str
    max_tokens: int | None = None
    temperature: float = 0.0


@dataclass
class Answer:
    text: str
    model: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Stream:
    """A streamed answer: iterate ``pieces``; ``model`` is known at once and
    the token counts once the iteration ends."""

    model: str
    pieces: Iterator[str]
    usage: dict[str, int] = field(default_factory=dict)


def chat_model() -> str:
    """Return the id of the model that serves chat requests."""
    return registry.engine_for(WORKLOAD).model


def _prepare(user: User, conversation: Conversation) -> tuple[str, ChatRequest]:
    """Redact every message in a new scope (raises RedactionFailed, so nothing
    reaches the engine when the analyzer fails)."""
    scope_id = str(uuid.uuid4())
    texts = [text for _, text in conversation.messages]
    redactions = redact_many(texts, scope_id=scope_id, owner_id=user.pk)
    counts: dict[str, int] = {}
    for redaction in redactions:
        for entity_type, count in redaction.counts().items():
            counts[entity_type] = counts.get(entity_type, 0) + count
    record(
        "chat.redacted",
        actor=user,
        object_type="vault_scope",
        object_id=scope_id,
        details={"messages": len(texts), "entities": counts},
    )
    limit = settings.CHAT_MAX_TOKENS
    request = ChatRequest(
        messages=[
            {"role": role, "content": redaction.text}
            for (role, _), redaction in zip(
                conversation.messages, redactions, strict=True
            )
        ],
        max_tokens=min(conversation.max_tokens or limit, limit),
        temperature=conversation.temperature,
    )
    return scope_id, request


def _audit_answer(
    user: User,
    scope_id: str,
    conversation: Conversation,
    model: str,
    usage: dict[str, int],
    *,
    streamed: bool,
) -> None:
    record(
        "chat.answered",
        actor=user,
        object_type="vault_scope",
        object_id=scope_id,
        details={
            "requested_model": conversation.requested_model[:100],
            "model": model,
            "streamed": streamed,
            **usage,
        },
    )


def complete(user: User, conversation: Conversation) -> Answer:
    """Answer ``conversation``. Raises RedactionFailed, PayloadBlocked,
    EngineUnavailable, EngineRejected or ModelOutputInvalid."""
    scope_id, request = _prepare(user, conversation)
    engine = registry.engine_for(WORKLOAD)
    try:
        result = client.complete(
            engine,
            request,
            preflight=residual.ensure_clean,
            workload=WORKLOAD,
            subject_id=scope_id,
        )
    except Exception as exc:
        _audit_failure(user, scope_id, exc)
        raise
    text = reidentify(result.content, scope_id=scope_id, requester=user)
    usage = {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
    }
    _audit_answer(user, scope_id, conversation, engine.model, usage, streamed=False)
    return Answer(
        text=text,
        model=engine.model,
        finish_reason=result.finish_reason,
        **usage,
    )


def stream(user: User, conversation: Conversation) -> Stream:
    """Start a streamed answer. Redaction happens here, before the first
    piece, so its failure raises at once; engine errors raise from the
    iteration."""
    scope_id, request = _prepare(user, conversation)
    engine = registry.engine_for(WORKLOAD)
    result = Stream(model=engine.model, pieces=iter(()))

    def pieces() -> Iterator[str]:
        restorer = StreamReidentifier(scope_id=scope_id, requester=user)
        completion_tokens = 0
        try:
            for piece in streaming.stream(
                engine,
                request,
                preflight=residual.ensure_clean,
                workload=WORKLOAD,
                subject_id=scope_id,
            ):
                completion_tokens += 1
                shown = restorer.feed(piece)
                if shown:
                    yield shown
        except Exception as exc:
            _audit_failure(user, scope_id, exc)
            raise
        rest = restorer.close()
        if rest:
            yield rest
        result.usage = {"completion_tokens": completion_tokens}
        _audit_answer(
            user, scope_id, conversation, engine.model, result.usage, streamed=True
        )

    result.pieces = pieces()
    return result


def _audit_failure(user: User, scope_id: str, exc: Exception) -> None:
    reason = getattr(exc, "reason", "internal_error")
    logger.warning("chat request in scope %s failed: %s", scope_id, reason)
    record(
        "chat.failed",
        actor=user,
        object_type="vault_scope",
        object_id=scope_id,
        outcome=Outcome.FAILURE,
        details={"reason": reason},
    )


@dataclass
class Embeddings:
    vectors: list[list[float]]
    model: str
    tokens: int


def embed(user: User, texts: list[str], requested_model: str) -> Embeddings:
    """Embed ``texts`` after redacting them in a new scope, so no personal
    value shapes a vector that leaves the appliance's control. Raises
    RedactionFailed, EmbeddingsUnavailable or EmbeddingsInvalid."""
    # NOTE: the embedder lives in the HR app, its first user; it belongs in
    # the inference app once a second workload embeds text.
    from appliance.hr import embeddings

    scope_id = str(uuid.uuid4())
    redactions = redact_many(texts, scope_id=scope_id, owner_id=user.pk)
    vectors = embeddings.embed([redaction.text for redaction in redactions])
    # A rough count (words), for usage figures: the embedder reports none.
    tokens = sum(len(redaction.text.split()) for redaction in redactions)
    record(
        "chat.embedded",
        actor=user,
        object_type="vault_scope",
        object_id=scope_id,
        details={
            "inputs": len(texts),
            "requested_model": requested_model[:100],
            "entities": sum(sum(r.counts().values()) for r in redactions),
        },
    )
    return Embeddings(
        vectors=vectors, model=settings.HR_EMBEDDINGS_MODEL, tokens=tokens
    )
