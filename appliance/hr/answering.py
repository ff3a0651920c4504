"""Answering a staff question from the policies, with citations.

Steps for one question: redact it in the conversation's vault scope;
retrieve passages of the policies in effect for the asker; pick the best
supporting sentence of each; refuse (no model call) when the support check
fails; otherwise redact the passages in the same scope, stream the model's
answer, and append the quoted supporting sentence with its citation. The
redacted turn is stored sealed; pseudonyms are put back for the asker only.

``prepare`` does everything up to the model call, so that a bad request
fails before a response starts; ``Prepared.events`` then streams.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import regex
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from appliance import crypto
from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.hr import chunking, prompts, retrieval, support
from appliance.hr.models import Chunk, Conversation, Turn
from appliance.inference.registry import engine_for
from appliance.inference.streaming import stream
from appliance.privacy import residual
from appliance.privacy.redaction import (
    TOKEN_PATTERN,
    redact,
    redact_many,
    reidentify_all,
)

logger = logging.getLogger(__name__)

WORKLOAD = "hr_question"
MAX_QUESTION_CHARS = 2000
_CITATION = regex.compile(r"\[(\d{1,2})\]")


class ConversationNotFound(Exception):
    """No conversation with that id belongs to the asker."""


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Done:
    answer: dict[str, Any]


Event = Token | Done


@dataclass(frozen=True)
class Source:
    """A retrieved passage with its best sentence, numbered as in the prompt."""

    number: int
    chunk: Chunk
    sentences: list[str]
    best: support.Support

    def citation(self) -> dict[str, Any]:
        version = self.chunk.version
        return {
            "number": self.number,
            "policy": version.policy.key,
            "title": version.title,
            "version": version.version,
            "effective_from": version.effective_from.isoformat(),
            "section": self.chunk.section,
            "passage_id": self.chunk.id,
            "quote": chunking.plain(self.best.text),
        }


@dataclass
class Prepared:
    user: User
    conversation: Conversation
    question: str
    sources: list[Source]
    refused: bool
    request: Any = None
    score: float = 0.0
    entities: dict[str, int] = field(default_factory=dict)

    def events(self) -> Iterator[Event]:
        """Yield the answer's text as it is written, then the answer.

        An answer starts with the best supporting sentence, quoted with its
        source, which is known before the model is called: the asker reads
        the policy's own words at once, and the model's explanation follows.
        """
        buffer = _Reidentifier(self.conversation.scope_id, self.user)
        model_text = ""
        lead = "" if self.refused else source_line(self.sources[0])
        if lead:
            yield Token(lead)
        if self.refused:
            pieces: Iterator[str] = iter([refusal_text()])
        else:
            pieces = stream(
                engine_for(WORKLOAD),
                self.request,
                preflight=residual.ensure_clean,
                workload=WORKLOAD,
                subject_id=str(self.conversation.id),
            )
        for piece in pieces:
            model_text += piece
            shown = buffer.feed(piece)
            if shown:
                yield Token(shown)
        model_text = model_text.strip()
        cited = self._cited(model_text)
        shown = buffer.flush()
        if shown:
            yield Token(shown)
        turn = self._store(model_text, lead, cited)
        yield Done(self._answer(turn, lead + model_text, cited))

    def _cited(self, text: str) -> list[Source]:
        if self.refused:
            return []
        numbers = {int(n) for n in _CITATION.findall(text)}
        return [s for s in self.sources if s.number == 1 or s.number in numbers]

    def _store(self, model_text: str, lead: str, cited: list[Source]) -> Turn:
        citations = [source.citation() for source in cited]
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update().get(
                id=self.conversation.id
            )
            last = conversation.turns.aggregate(n=Max("ordinal"))["n"] or 0
            turn = Turn(
                conversation=conversation,
                ordinal=last + 1,
                refused=self.refused,
                citations=citations,
            )
            turn.sealed = _seal_turn(
                turn.id,
                {"question": self.question, "answer": model_text, "lead": lead},
            )
            turn.save()
            conversation.updated_at = timezone.now()
            conversation.save(update_fields=["updated_at"])
            record(
                "hr.question_answered",
                actor=self.user,
                object_type="hr_conversation",
                object_id=conversation.id,
                details={
                    "turn": turn.ordinal,
                    "refused": self.refused,
                    "entities": self.entities,
                    "passages": [source.chunk.id for source in self.sources],
                    "cited_versions": [c.chunk.version_id for c in cited],
                },
            )
        return turn

    def _answer(
        self, turn: Turn, redacted_text: str, cited: list[Source]
    ) -> dict[str, Any]:
        text = redacted_text
        if TOKEN_PATTERN.search(text):
            text = reidentify_all(
                [text], scope_id=self.conversation.scope_id, requester=self.user
            )[0]
        answer = {
            "conversation": str(self.conversation.id),
            "turn": str(turn.id),
            "answer": text,
            "refused": self.refused,
            "support": self.score,
            "citations": turn.citations,
        }
        if self.refused:
            answer["contact"] = settings.HR_CONTACT
        return answer


def refusal_text() -> str:
    return (
        "The HR policies available to you do not cover this question, so I "
        f"cannot answer it. Please contact {settings.HR_CONTACT}."
    )


def source_line(source: Source) -> str:
    """Format the quoted supporting sentence that opens an answer. The quote
    is the company's policy text as written, so it holds no asker's data."""
    citation = source.citation()
    section = f", section “{citation['section']}”" if citation["section"] else ""
    return (
        f"Source [1]: {citation['title']} (version {citation['version']}"
        f"{section}): “{citation['quote']}”\n\n"
    )


def _aad(turn_id: object) -> bytes:
    return f"hr-turn:{turn_id}".encode()


def _seal_turn(turn_id: uuid.UUID, value: dict[str, str]) -> bytes:
    data = json.dumps(value, ensure_ascii=False).encode()
    return crypto.seal(data, aad=_aad(turn_id))


def read_turn(turn: Turn) -> dict[str, str]:
    """Open a stored turn: the redacted question, answer and source line."""
    value: dict[str, str] = json.loads(
        crypto.unseal(bytes(turn.sealed), aad=_aad(turn.id))
    )
    return value


def _conversation(user: User, conversation_id: uuid.UUID | None) -> Conversation:
    if conversation_id is None:
        return Conversation.objects.create(owner=user)
    found = Conversation.objects.filter(id=conversation_id, owner=user).first()
    if found is None:
        raise ConversationNotFound(conversation_id)
    return found


def _history(conversation: Conversation) -> list[prompts.PriorTurn]:
    turns = list(conversation.turns.order_by("-ordinal")[: prompts.HISTORY_TURNS])
    history = []
    for turn in reversed(turns):
        stored = read_turn(turn)
        history.append(prompts.PriorTurn(stored["question"], stored["answer"]))
    return history


def prepare(
    user: User,
    question: str,
    *,
    conversation_id: uuid.UUID | None = None,
    as_of: date | None = None,
) -> Prepared:
    """Redact, retrieve and decide; build the model request when answering.

    Raises ConversationNotFound, RedactionFailed, and the embedder's errors.
    """
    as_of = as_of or timezone.localdate()
    conversation = _conversation(user, conversation_id)
    scope = conversation.scope_id
    redaction = redact(question, scope_id=scope, owner_id=user.pk)
    history = _history(conversation)

    # A follow-up ("and for my son?") is searched together with the question
    # before it.
    query = redaction.text
    if history:
        query = f"{history[-1].question}\n{query}"
    found = retrieval.retrieve(user, query, as_of, settings.HR_PASSAGES)
    sources = _sources(found, retrieval.query_text(query))
    score = 0.0
    if sources:
        first = sources[0].chunk
        score = support.support_score(
            found.best_similarity,
            support.coverage(
                retrieval.query_text(redaction.text), f"{first.section} {first.text}"
            ),
        )
    refused = score < settings.HR_MIN_SUPPORT
    prepared = Prepared(
        user=user,
        conversation=conversation,
        question=redaction.text,
        sources=sources,
        refused=refused,
        entities=redaction.counts(),
        score=round(score, 4),
    )
    if not refused:
        prepared.request = _request(prepared, history)
    return prepared


def _sources(found: retrieval.Retrieval, question: str) -> list[Source]:
    """Number the retrieved passages, best-supported first."""
    chunks = Chunk.objects.select_related("version__policy").in_bulk(
        [hit.chunk_id for hit in found.hits]
    )
    ordered = [chunks[hit.chunk_id] for hit in found.hits]
    split = [chunking.sentences(chunk.text) for chunk in ordered]
    packed = [bytes(chunk.sentence_vectors) for chunk in ordered]
    ranked = support.rank_sentences(found.query_vector, question, split, packed)
    ranked.sort(key=lambda item: -item.score)
    return [
        Source(number, ordered[item.passage], split[item.passage], item)
        for number, item in enumerate(ranked, 1)
    ]


def _request(prepared: Prepared, history: list[prompts.PriorTurn]) -> Any:
    excerpts = [
        prompts.excerpt(source.sentences, source.best.sentence)
        for source in prepared.sources
    ]
    # Passages are redacted in the conversation's scope, like the question,
    # so the prompt holds that scope's tokens only.
    redacted = redact_many(
        [chunking.plain(text) for text in excerpts],
        scope_id=prepared.conversation.scope_id,
        owner_id=prepared.user.pk,
    )
    passages = [
        prompts.PromptPassage(
            number=source.number,
            title=source.chunk.version.title,
            section=source.chunk.section,
            text=item.text,
        )
        for source, item in zip(prepared.sources, redacted, strict=True)
    ]
    return prompts.build_request(
        prepared.question, passages, history, settings.HR_ANSWER_MAX_TOKENS
    )


def ask(
    user: User,
    question: str,
    *,
    conversation_id: uuid.UUID | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Answer a question without streaming; returns the answer object."""
    prepared = prepare(user, question, conversation_id=conversation_id, as_of=as_of)
    return drain(prepared)


def drain(prepared: Prepared) -> dict[str, Any]:
    """Run a prepared answer to its end and return the answer object."""
    for event in prepared.events():
        if isinstance(event, Done):
            return event.answer
    raise AssertionError("the answer stream ended without an answer")


class _Reidentifier:
    """Streams text back with the asker's values in place of tokens.

    A token can arrive split over several pieces, so text after the last
    space or an unclosed bracket is held until it is complete."""

    def __init__(self, scope_id: str, user: User) -> None:
        self.scope_id = scope_id
        self.user = user
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        cut = _safe_cut(self.pending)
        ready, self.pending = self.pending[:cut], self.pending[cut:]
        return self._restore(ready)

    def flush(self) -> str:
        ready, self.pending = self.pending, ""
        return self._restore(ready)

    def _restore(self, text: str) -> str:
        if not text or not TOKEN_PATTERN.search(text):
            return text
        return reidentify_all([text], scope_id=self.scope_id, requester=self.user)[0]


def _safe_cut(text: str) -> int:
    """Return how much of ``text`` cannot end inside a token."""
    opening = max(text.rfind("<"), text.rfind("["), text.rfind("{"))
    unclosed = opening != -1 and not any(c in text[opening:] for c in ">]}")
    # Hold an unclosed bracket, unless it is too long to be a token.
    if unclosed and len(text) - opening < 48:
        return opening
    space = max(text.rfind(" "), text.rfind("\n"))
    return space + 1 if space != -1 else 0
