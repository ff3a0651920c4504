"""The model's part of a check: the prompt, the answer schema, and reading a
judgment per rule out of the answer.

The prompt holds only redacted text and the rulebook's own wording, so it
carries no personal data of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from appliance.compliance.rulebook import Rule, Rulebook
from appliance.inference.client import ChatRequest, ChatResult
from appliance.privacy.tokens import example_placeholder

# Characters of redacted text per model call. SmolLM2-135M runs with a
# 4,096-token context; 3,000 characters (about 750 tokens) leave room for the
# rules and the answer.
CHUNK_CHARS = 3000

# The example token is in the reserved placeholder form, which the vault
# never issues, so it cannot be mistaken for a person in the text.
SYSTEM_PROMPT = (
    "You review financial marketing text for compliance. For each rule, answer "
    "true if the text breaks it and false if it does not. Tokens such as "
    f"{example_placeholder('PERSON', 1)} stand for redacted personal data."
)


@dataclass
class ModelJudgment:
    """The model's answer on one rule, with the engine's confidence in it."""

    violated: bool
    confidence: float | None


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[str]:
    """Split ``text`` into pieces of at most ``size`` characters, at paragraph
    or sentence ends where possible."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n\n"), window.rfind(". "), window.rfind("\n"))
            if cut > size // 2:
                end = start + cut + 1
        yield text[start:end]
        start = end
    if not text:
        yield ""


def answer_schema(rulebook: Rulebook) -> dict[str, Any]:
    """One boolean per rule. The answer is kept this short on purpose: with
    log-probabilities and a grammar, llama-cpp-python generates about 20
    tokens a second on two cores, and a small model's free-text quotes were
    not reliable enough to locate evidence."""
    return {
        "type": "object",
        "properties": {rule.id: {"type": "boolean"} for rule in rulebook.rules},
        "required": [rule.id for rule in rulebook.rules],
        "additionalProperties": False,
    }


def build_request(chunk: str, rulebook: Rulebook) -> ChatRequest:
    rules = "\n".join(f"{rule.id}: {rule.question}" for rule in rulebook.rules)
    user = f"TEXT:\n<<<\n{chunk}\n>>>\n\nRULES:\n{rules}"
    return ChatRequest(
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user},
        ],
        schema=answer_schema(rulebook),
        schema_name="compliance_answer",
    )


def read_judgment(result: ChatResult, rule: Rule) -> ModelJudgment:
    violated = bool(result.parsed[rule.id])
    confidence = None
    located = re.search(rf'"{re.escape(rule.id)}"\s*:\s*(true|false)', result.content)
    if located:
        confidence = result.confidence_at(
            located.start(1), ("false",) if violated else ("true",)
        )
    return ModelJudgment(violated=violated, confidence=confidence)
