"""The model's part of an annotation: a summary, a document type and tags for
the opening of the redacted text, and checks that throw out what a small
model gets wrong, so the caller falls back to the rules and an extract.

The prompt holds only redacted text and the taxonomy's own ids, so it
carries no personal data of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from appliance.annotation.taxonomy import Taxonomy
from appliance.inference.client import ChatRequest
from appliance.privacy.redaction import TOKEN_PATTERN
from appliance.privacy.tokens import example_placeholder

# Characters of redacted text the model reads: the opening of the document,
# about 300 tokens, so that prompt processing stays near a second on two
# cores with SmolLM2-135M.
PROMPT_CHARS = 1200
SUMMARY_MAX_CHARS = 300
SUMMARY_MIN_CHARS = 20
MAX_TAGS = 5
# The expected output is short JSON. This bounds the generation time when a
# model rambles inside the summary string.
MAX_TOKENS = 160

SYSTEM_PROMPT = (
    "You annotate documents for a records team. Write a one-sentence summary "
    "of the document, choose its document type and up to three topic tags from "
    "the lists given. Tokens such as "
    f"{example_placeholder('PERSON', 1)} stand for redacted personal data; "
    "keep them as they are."
)

_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class ModelAnnotation:
    """The model's proposal; a field is None (or empty) when it failed the
    checks."""

    summary: str | None
    document_type: str | None
    tags: list[str]


def answer_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "summary": {
                "type": "string",
                "minLength": 1,
                "maxLength": SUMMARY_MAX_CHARS,
            },
            "document_type": {"enum": taxonomy.type_ids},
            "tags": {
                "type": "array",
                "items": {"enum": taxonomy.tag_ids},
                "maxItems": MAX_TAGS,
            },
        },
        "required": ["summary", "document_type", "tags"],
        "additionalProperties": False,
    }


def build_request(redacted: str, taxonomy: Taxonomy) -> ChatRequest:
    opening = redacted[:PROMPT_CHARS]
    types = ", ".join(taxonomy.type_ids)
    tags = ", ".join(taxonomy.tag_ids)
    user = (
        f"DOCUMENT:\n<<<\n{opening}\n>>>\n\nDOCUMENT TYPES: {types}\n"
        f"TAGS: {tags}\n\nAnswer in JSON with summary, document_type and tags."
    )
    return ChatRequest(
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user},
        ],
        schema=answer_schema(taxonomy),
        schema_name="annotation_answer",
        max_tokens=MAX_TOKENS,
    )


def read_answer(parsed: Any, redacted: str, taxonomy: Taxonomy) -> ModelAnnotation:
    """Keep the parts of the model's output that pass the checks."""
    if not isinstance(parsed, dict):
        return ModelAnnotation(None, None, [])
    summary = parsed.get("summary")
    kind = parsed.get("document_type")
    tags = parsed.get("tags")
    return ModelAnnotation(
        summary=summary if usable_summary(summary, redacted) else None,
        document_type=kind if kind in taxonomy.type_ids else None,
        tags=[tag for tag in dict.fromkeys(tags or []) if tag in taxonomy.tag_ids]
        if isinstance(tags, list)
        else [],
    )


def usable_summary(summary: Any, redacted: str) -> bool:
    """Reject a summary that is too short or long, mostly repeats itself,
    copies the prompt's instructions, or names a token that the redacted text
    does not contain (the model made it up, and re-identification would have
    nothing to put back)."""
    if not isinstance(summary, str):
        return False
    text = summary.strip()
    if not SUMMARY_MIN_CHARS <= len(text) <= SUMMARY_MAX_CHARS:
        return False
    words = [word.lower() for word in _WORD.findall(text)]
    if len(words) < 4 or len(set(words)) < len(words) / 2:
        return False
    if "document type" in text.lower() or "<<<" in text:
        return False
    known = {match.group(0) for match in TOKEN_PATTERN.finditer(redacted)}
    return all(match.group(0) in known for match in TOKEN_PATTERN.finditer(text))


_MARKUP_LINE = re.compile(r"^\s*(?:[*+\-]|\d+\.)\s*\[|^\s*[-=*_#|>]{3,}\s*$|^---")
_EMPHASIS = re.compile(r"\*\*|__|`")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def has_prose(text: str) -> bool:
    """True when the text has words for a model to summarize."""
    return len(_WORD.findall(text[:PROMPT_CHARS])) >= 3


def extract_summary(redacted: str) -> str:
    """A summary taken from the text itself: its first lines of prose, cut at
    a sentence end within SUMMARY_MAX_CHARS. Used when the model's summary
    fails the checks or the model returned nothing usable."""
    lines = []
    for raw in redacted.splitlines():
        line = _EMPHASIS.sub("", raw).strip().lstrip("#").strip()
        if not line or _MARKUP_LINE.match(raw) or len(_WORD.findall(line)) < 3:
            continue
        lines.append(line)
        if sum(len(item) for item in lines) > SUMMARY_MAX_CHARS:
            break
    text = " ".join(" ".join(lines).split())
    if not text:
        return "The document contains no prose to summarize."
    if len(text) <= SUMMARY_MAX_CHARS:
        return text
    cut = text[:SUMMARY_MAX_CHARS]
    ends = [match.start() for match in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > SUMMARY_MAX_CHARS // 3:
        return cut[: ends[-1]].strip()
    return cut.rsplit(" ", 1)[0].rstrip(",;:") + "…"
