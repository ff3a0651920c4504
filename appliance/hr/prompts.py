"""The prompt for an HR answer: numbered, redacted policy passages, the
conversation so far, and the question.

Every text here has been redacted in the conversation's scope before it
arrives, so the only tokens in the prompt are that scope's.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.inference.client import ChatRequest

SYSTEM = (
    "You are the company's HR assistant. Answer the employee's question using "
    "only the numbered policy passages. Cite the passage you used like [1]. "
    "Answer in one to three short sentences. If the passages do not answer "
    "the question, say so. Copy tokens such as <PERSON_1> exactly as written."
)
# Characters of each passage put into the prompt. Passages are cut to the
# sentences around the best-matching one, so five fit in a short prompt.
PASSAGE_CHARS = 450
# Earlier turns repeated in the prompt, newest last.
HISTORY_TURNS = 2


@dataclass(frozen=True)
class PromptPassage:
    number: int
    title: str
    section: str
    text: str


@dataclass(frozen=True)
class PriorTurn:
    question: str
    answer: str


def build_request(
    question: str,
    passages: list[PromptPassage],
    history: list[PriorTurn],
    max_tokens: int,
) -> ChatRequest:
    blocks = []
    for passage in passages:
        where = (
            f"{passage.title} — {passage.section}"
            if passage.section
            else (passage.title)
        )
        blocks.append(f"[{passage.number}] {where}\n{passage.text}")
    parts = ["Policy passages:\n\n" + "\n\n".join(blocks)]
    if history:
        earlier = "\n".join(
            f"Employee: {turn.question}\nHR assistant: {turn.answer}"
            for turn in history[-HISTORY_TURNS:]
        )
        parts.append(f"Conversation so far:\n{earlier}")
    parts.append(f"Question: {question}")
    return ChatRequest(
        messages=[
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "\n\n".join(parts)},
        ],
        max_tokens=max_tokens,
        temperature=0.0,
    )


def excerpt(sentences: list[str], best: int, limit: int = PASSAGE_CHARS) -> str:
    """Join the sentences around ``sentences[best]`` up to ``limit``
    characters, growing the window on both sides in turn."""
    start = end = best
    length = len(sentences[best])
    grew = True
    while grew:
        grew = False
        if end + 1 < len(sentences) and length + len(sentences[end + 1]) < limit:
            end += 1
            length += len(sentences[end]) + 1
            grew = True
        if start > 0 and length + len(sentences[start - 1]) < limit:
            start -= 1
            length += len(sentences[start]) + 1
            grew = True
    return " ".join(sentences[start : end + 1])[: limit * 2]
