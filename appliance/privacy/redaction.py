"""Redaction: replace personal data with scope-stable pseudonym tokens before
any model sees a text, and put the values back for the scope's owner only.

Redaction fails closed: if the analyzer raises or runs out of time,
``redact`` raises RedactionFailed and the caller has nothing it could send
to a model. All tokens in one model request must come from the request's
scope: redact every text that goes into a prompt (retrieved passages too)
with that scope, and write few-shot examples with
``tokens.example_placeholder``.

A token-shaped string already in the input (a token from another scope, a
reserved placeholder) is itself treated as a value of its type and given a
token of this scope, so it cannot collide with one issued here; re-
identification gives the original string back.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import regex

from appliance.audit.models import Outcome
from appliance.audit.services import Actor, record
from appliance.privacy import engines, tokens, vault
from appliance.privacy.analyzer import Finding
from appliance.privacy.errors import (
    InputTooLarge,
    RedactionFailed,
    ReidentificationDenied,
)
from appliance.privacy.models import VaultScope

logger = logging.getLogger(__name__)

# Tokens as the vault issues them and as models write them back.
TOKEN_PATTERN = tokens.LOOSE
# Characters analyzed per step when a stream is redacted, and how far past
# the step the analysis looks so that an entity on the cut is seen whole.
STREAM_STEP = 1_000_000
STREAM_LOOKAHEAD = 2_000


@dataclass(frozen=True)
class Entity:
    """One redacted span: offsets into the original and the redacted text."""

    type: str
    start: int
    end: int
    score: float
    recognizer: str
    token: str
    redacted_start: int
    redacted_end: int


@dataclass(frozen=True)
class Redaction:
    text: str
    entities: list[Entity]

    def counts(self) -> dict[str, int]:
        return dict(Counter(entity.type for entity in self.entities))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the redacted text to the matching original span. A
        span edge inside a token widens to the whole original entity."""
        return self._to_original(start, is_end=False), self._to_original(
            end, is_end=True
        )

    def _to_original(self, position: int, *, is_end: bool) -> int:
        shift = 0
        for entity in self.entities:
            if position < entity.redacted_start or (
                is_end and position == entity.redacted_start
            ):
                break
            if position < entity.redacted_end or (
                is_end and position == entity.redacted_end
            ):
                return entity.end if is_end else entity.start
            shift = entity.end - entity.redacted_end
        return position + shift

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "entities": [asdict(e) for e in self.entities]}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Redaction:
        return cls(
            text=value["text"], entities=[Entity(**e) for e in value["entities"]]
        )


def _existing_tokens(text: str) -> list[Finding]:
    found = []
    for pattern in (tokens.ISSUED, tokens.RESERVED):
        for match in pattern.finditer(text):
            found.append(
                Finding(match.group(1), *match.span(), 1.0, "token in the input")
            )
    return found


def _with_existing_tokens(text: str, findings: list[Finding]) -> list[Finding]:
    existing = _existing_tokens(text)
    if not existing:
        return findings
    kept = [
        f
        for f in findings
        if all(f.end <= e.start or f.start >= e.end for e in existing)
    ]
    return sorted(kept + existing, key=lambda f: f.start)


def analyze_all(texts: Sequence[str]) -> list[list[Finding]]:
    """Findings for each text; RedactionFailed if the analyzer fails."""
    try:
        results = engines.get_analyzer().analyze_batch(texts)
    except InputTooLarge:
        raise
    except Exception as exc:
        # Any failure, a timeout included, leaves the text unvouched for.
        logger.error("analyzer raised %s; nothing is sent", type(exc).__name__)
        raise RedactionFailed() from None
    return [_with_existing_tokens(t, f) for t, f in zip(texts, results, strict=True)]


def _apply(
    text: str, findings: list[Finding], issued: dict[tuple[str, str], str]
) -> Redaction:
    pieces: list[str] = []
    entities: list[Entity] = []
    cursor = 0
    length = 0
    for finding in findings:
        before = text[cursor : finding.start]
        pieces.append(before)
        length += len(before)
        token = issued[(finding.entity_type, text[finding.start : finding.end])]
        pieces.append(token)
        entities.append(
            Entity(
                type=finding.entity_type,
                start=finding.start,
                end=finding.end,
                score=round(finding.score, 3),
                recognizer=finding.recognizer,
                token=token,
                redacted_start=length,
                redacted_end=length + len(token),
            )
        )
        length += len(token)
        cursor = finding.end
    pieces.append(text[cursor:])
    return Redaction(text="".join(pieces), entities=entities)


def redact_many(
    texts: Sequence[str], *, scope_id: str, owner_id: int | None
) -> list[Redaction]:
    """Redact several texts in one scope, with one analyzer batch."""
    all_findings = analyze_all(texts)
    items = [
        (f.entity_type, text[f.start : f.end])
        for text, findings in zip(texts, all_findings, strict=True)
        for f in findings
    ]
    issued = vault.tokens_for(scope_id, owner_id, items)
    return [
        _apply(text, findings, issued)
        for text, findings in zip(texts, all_findings, strict=True)
    ]


def redact(text: str, *, scope_id: str, owner_id: int | None) -> Redaction:
    """Replace each entity in ``text`` by its token in the scope."""
    return redact_many([text], scope_id=scope_id, owner_id=owner_id)[0]


def redact_stream(
    pieces: Iterable[str],
    *,
    scope_id: str,
    owner_id: int | None,
    step: int = STREAM_STEP,
    lookahead: int = STREAM_LOOKAHEAD,
) -> Iterator[Redaction]:
    """Redact text that arrives in pieces (a large file), a step at a time.

    Each Redaction covers the next stretch of the input, with offsets
    relative to that stretch; an entity that crosses a step's end is
    redacted whole, in the stretch where it starts."""
    buffer = ""
    source = iter(pieces)
    exhausted = False
    while buffer or not exhausted:
        while not exhausted and len(buffer) < step + lookahead:
            piece = next(source, None)
            exhausted = piece is None
            buffer += piece or ""
        window = buffer[: step + lookahead]
        findings = analyze_all([window])[0]
        if exhausted and len(buffer) <= len(window):
            cut = len(window)
        else:
            space = window.rfind(" ", step - lookahead, step)
            cut = space + 1 if space > 0 else step
        kept = [f for f in findings if f.start < cut]
        cut = max([cut, *(f.end for f in kept)])
        items = [(f.entity_type, window[f.start : f.end]) for f in kept]
        issued = vault.tokens_for(scope_id, owner_id, items)
        yield _apply(buffer[:cut], kept, issued)
        buffer = buffer[cut:]


def reidentify(text: str, *, scope_id: str, requester: Actor) -> str:
    """Put the original values back into ``text`` for the scope's owner.

    Raises ReidentificationDenied for anyone else; both outcomes are audited.
    """
    return reidentify_all([text], scope_id=scope_id, requester=requester)[0]


def _values_by_key(values: dict[str, str]) -> dict[tuple[str, int], str]:
    by_key: dict[tuple[str, int], str] = {}
    for token, value in values.items():
        match = tokens.ISSUED.fullmatch(token)
        if match:
            by_key[(tokens.squash(match.group(1)), int(match.group(2)))] = value
    return by_key


def _restore(texts: list[str], values: dict[str, str]) -> tuple[list[str], int, int]:
    """Replace tokens in ``texts``, however the model wrote them. Returns the
    texts, the tokens replaced and the token-like strings left alone (ones
    the scope never issued)."""
    by_key = _values_by_key(values)
    replaced = 0
    unknown = 0

    def substitute(match: regex.Match[str]) -> str:
        nonlocal replaced, unknown
        value = by_key.get(tokens.read_loose(match))
        if value is None:
            unknown += 1
            return match.group(0)
        replaced += 1
        return value

    output = [tokens.LOOSE.sub(substitute, text) for text in texts]
    return output, replaced, unknown


def _owned_scope(scope_id: str, requester: Actor) -> VaultScope | None:
    """Return the scope if ``requester`` owns it, None if it does not exist;
    raise ReidentificationDenied (audited) for anyone else."""
    scope = VaultScope.objects.filter(id=scope_id).first()
    if scope is not None and scope.owner_id != requester.pk:
        record(
            "privacy.reidentify_denied",
            actor=requester,
            object_type="vault_scope",
            object_id=scope_id,
            outcome=Outcome.DENIED,
            durable=True,
        )
        raise ReidentificationDenied(scope_id)
    return scope


def reidentify_all(texts: list[str], *, scope_id: str, requester: Actor) -> list[str]:
    scope = _owned_scope(scope_id, requester)
    if scope is None:
        return list(texts)

    output, replaced, unknown = _restore(list(texts), vault.values_for(scope))
    record(
        "privacy.reidentified",
        actor=requester,
        object_type="vault_scope",
        object_id=scope_id,
        details={"tokens": replaced, "unknown_tokens": unknown},
    )
    return output


class StreamReidentifier:
    """Re-identify text that arrives in pieces (a streamed answer) for the
    scope's owner.

    A token can be split across pieces, so the last ``HOLD`` characters, and
    any token that reaches into them, are kept back until more text or
    ``close()`` arrives. Raises ReidentificationDenied on creation for
    anyone but the owner. ``close()`` records one audit event for the stream.
    """

    # Longer than any token a model writes back (``<EMAIL_ADDRESS_12>``).
    HOLD = 64

    def __init__(self, *, scope_id: str, requester: Actor) -> None:
        scope = _owned_scope(scope_id, requester)
        self.scope_id = scope_id
        self.requester = requester
        self.by_key = _values_by_key(vault.values_for(scope)) if scope else {}
        self.buffer = ""
        self.replaced = 0
        self.unknown = 0

    def _substitute(self, text: str) -> str:
        def substitute(match: regex.Match[str]) -> str:
            value = self.by_key.get(tokens.read_loose(match))
            if value is None:
                self.unknown += 1
                return match.group(0)
            self.replaced += 1
            return value

        return tokens.LOOSE.sub(substitute, text)

    def feed(self, piece: str) -> str:
        """Add ``piece``; return the text that is safe to show now."""
        self.buffer += piece
        cut = len(self.buffer) - self.HOLD
        if cut <= 0:
            return ""
        for match in tokens.LOOSE.finditer(self.buffer):
            if match.start() < cut < match.end():
                cut = match.start()
                break
        released, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return self._substitute(released)

    def close(self) -> str:
        """Return the rest of the text and audit the re-identification."""
        rest, self.buffer = self._substitute(self.buffer), ""
        record(
            "privacy.reidentified",
            actor=self.requester,
            object_type="vault_scope",
            object_id=self.scope_id,
            details={"tokens": self.replaced, "unknown_tokens": self.unknown},
        )
        return rest
