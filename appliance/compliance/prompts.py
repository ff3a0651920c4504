"""The model's part of a check: the prompt, the answer schema, and reading a
judgment per rule out of the answer.

The prompt holds only redacted text and the rulebook's own wording, whose
examples use reserved placeholders, so it carries no personal data of its
own. ``prompt_hash`` and ``schema_hash`` identify everything in a request
except the text, so a verdict records exactly what the model was asked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from appliance.compliance.rulebook import Rule, Rulebook
from appliance.inference.client import ChatRequest, ChatResult
from appliance.privacy.tokens import example_placeholder

# Characters of redacted text per model call. SmolLM2-135M runs with a
# 4,096-token context; 3,000 characters (about 750 tokens) leave room for the
# rules, their examples and the answer.
CHUNK_CHARS = 3000

# The example token is in the reserved placeholder form, which the vault
# never issues, so it cannot be mistaken for a person in the text.
SYSTEM_PROMPT = (
    "You review text for compliance. For each rule, answer true if the text "
    "breaks it and false if it does not. Tokens such as "
    f"{example_placeholder('PERSON', 1)} stand for redacted personal data."
)


@dataclass
class ModelJudgment:
    """The model's answer on one rule. ``confidence`` is the engine's
    probability for the answer token it chose, against the other answer."""

    violated: bool
    confidence: float | None

    @property
    def violation_probability(self) -> float | None:
        """The engine's probability that the rule is broken."""
        if self.confidence is None:
            return None
        return self.confidence if self.violated else round(1 - self.confidence, 4)


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


def _rule_block(rule: Rule) -> str:
    lines = [f"{rule.id}: {rule.instruction}"]
    for text, violates in rule.examples:
        label = "true" if violates else "false"
        lines.append(f'  Example ({label}): "{text}"')
    return "\n".join(lines)


def rules_text(rulebook: Rulebook) -> str:
    return "\n".join(_rule_block(rule) for rule in rulebook.rules)


def build_request(chunk: str, rulebook: Rulebook) -> ChatRequest:
    # The rules come before the text, so consecutive checks against one
    # rulebook share a prompt prefix, which llama.cpp evaluates only once.
    system = f"{SYSTEM_PROMPT}\n\nRULES:\n{rules_text(rulebook)}"
    return ChatRequest(
        messages=[
            {"role": "system", "content": system},
            {"role": "user", "content": f"TEXT:\n<<<\n{chunk}\n>>>"},
        ],
        schema=answer_schema(rulebook),
        schema_name="compliance_answer",
    )


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def prompt_hash(rulebook: Rulebook) -> str:
    """SHA-256 of the prompt without the text: system prompt and rules."""
    return _sha256(SYSTEM_PROMPT + "\n" + rules_text(rulebook))


def schema_hash(rulebook: Rulebook) -> str:
    return _sha256(json.dumps(answer_schema(rulebook), sort_keys=True))


def read_judgment(result: ChatResult, rule: Rule) -> ModelJudgment:
    violated = bool(result.parsed[rule.id])
    confidence = None
    located = re.search(rf'"{re.escape(rule.id)}"\s*:\s*(true|false)', result.content)
    if located:
        confidence = result.confidence_at(
            located.start(1), ("false",) if violated else ("true",)
        )
    return ModelJudgment(violated=violated, confidence=confidence)
