"""Redaction: replace personal data with scope-stable pseudonym tokens before
any model sees a text, and put the values back for the scope's owner only.

Redaction fails closed: if the analyzer raises, ``redact`` raises
RedactionFailed and the caller has nothing it could send to a model.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from presidio_analyzer import RecognizerResult

from appliance.audit.models import Outcome
from appliance.audit.services import Actor, record
from appliance.privacy import analyzer, vault
from appliance.privacy.errors import RedactionFailed, ReidentificationDenied
from appliance.privacy.models import VaultScope

logger = logging.getLogger(__name__)

# Tokens as the vault issues them, and as models tend to mangle them: other
# case, spaces inside the brackets.
TOKEN_PATTERN = re.compile(r"<\s*([A-Za-z][A-Za-z_]*?)_(\d+)\s*>")


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


def _resolve_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the strongest of overlapping findings: higher score, then longer."""
    ranked = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    chosen: list[RecognizerResult] = []
    for result in ranked:
        if all(result.end <= c.start or result.start >= c.end for c in chosen):
            chosen.append(result)
    return sorted(chosen, key=lambda r: r.start)


def redact(text: str, *, scope_id: str, owner_id: int | None) -> Redaction:
    """Replace each entity in ``text`` by its token in the scope."""
    try:
        results = analyzer.analyze(text)
    except Exception as exc:
        logger.error("analyzer raised %s; nothing is sent", type(exc).__name__)
        raise RedactionFailed() from None

    chosen = _resolve_overlaps(results)
    tokens = vault.tokens_for(
        scope_id, owner_id, [(r.entity_type, text[r.start : r.end]) for r in chosen]
    )
    pieces: list[str] = []
    entities: list[Entity] = []
    cursor = 0
    length = 0
    for result in chosen:
        before = text[cursor : result.start]
        pieces.append(before)
        length += len(before)
        token = tokens[(result.entity_type, text[result.start : result.end])]
        pieces.append(token)
        explanation = result.recognition_metadata or {}
        entities.append(
            Entity(
                type=result.entity_type,
                start=result.start,
                end=result.end,
                score=round(float(result.score), 3),
                recognizer=str(explanation.get("recognizer_name", "")),
                token=token,
                redacted_start=length,
                redacted_end=length + len(token),
            )
        )
        length += len(token)
        cursor = result.end
    pieces.append(text[cursor:])
    return Redaction(text="".join(pieces), entities=entities)


def reidentify(text: str, *, scope_id: str, requester: Actor) -> str:
    """Put the original values back into ``text`` for the scope's owner.

    Raises ReidentificationDenied for anyone else; both outcomes are audited.
    """
    return reidentify_all([text], scope_id=scope_id, requester=requester)[0]


def reidentify_all(texts: list[str], *, scope_id: str, requester: Actor) -> list[str]:
    scope = VaultScope.objects.filter(id=scope_id).first()
    if scope is None:
        return list(texts)
    if scope.owner_id != requester.pk:
        record(
            "privacy.reidentify_denied",
            actor=requester,
            object_type="vault_scope",
            object_id=scope_id,
            outcome=Outcome.DENIED,
            durable=True,
        )
        raise ReidentificationDenied(scope_id)

    values = vault.values_for(scope)
    replaced = 0

    def substitute(match: re.Match[str]) -> str:
        nonlocal replaced
        token = f"<{match.group(1).upper()}_{int(match.group(2))}>"
        if token in values:
            replaced += 1
            return values[token]
        return match.group(0)

    output = [TOKEN_PATTERN.sub(substitute, text) for text in texts]
    record(
        "privacy.reidentified",
        actor=requester,
        object_type="vault_scope",
        object_id=scope_id,
        details={"tokens": replaced},
    )
    return output
