"""The labelled redaction corpus and span-level scoring, shared by the
evaluation script, the speed benchmark and the test that runs a subset in CI.

Each line of data/redaction_corpus.jsonl is a case: ``text`` with every
entity marked inline as ``[[TYPE:value]]``, ``tags`` (hr, finance,
adversarial, fault, hard, negative, and names with one names-KIND tag per
kind of name case), an optional ``source`` for sentences quoted
from public-domain documents, and an optional ``pad`` that repeats a
sentence until the text reaches ``length`` characters (followed by
``suffix``), so that a text over spaCy's 1,000,000-character limit need not
be stored whole. All people and identifiers are invented.

A prediction matches a labelled entity when both have the same type and
their spans overlap by at least half of their union; each entity matches at
most one prediction.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "redaction_corpus.jsonl"
_MARK = re.compile(r"\[\[([A-Z_]+):(.*?)\]\]", re.DOTALL)

# Targets the evaluation checks.
TARGET_F2 = 0.90
TARGET_PRECISION = 0.85
# Checksum or fixed-format identifiers, and the free-form entities that
# matter most.
FIXED_FORMAT = ("US_SSN", "CREDIT_CARD", "IBAN_CODE", "EMAIL_ADDRESS")
TARGET_FIXED_RECALL = 0.98
FREE_FORM = ("PERSON", "STREET_ADDRESS")
TARGET_FREE_RECALL = 0.90

# Project code names the evaluation puts on the deny-list, as a deployment
# would in the admin.
DENY_LIST = ("Project Halcyon", "Nightjar", "Bluefin", "Aurora Ledger")


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int


@dataclass(frozen=True)
class Case:
    id: str
    tags: tuple[str, ...]
    text: str
    entities: tuple[Span, ...]


def parse(marked: str) -> tuple[str, list[Span]]:
    """Strip ``[[TYPE:value]]`` marks; return the text and the spans."""
    pieces: list[str] = []
    spans = []
    length = 0
    cursor = 0
    for match in _MARK.finditer(marked):
        before = marked[cursor : match.start()]
        pieces.append(before)
        length += len(before)
        value = match.group(2)
        spans.append(Span(match.group(1), length, length + len(value)))
        pieces.append(value)
        length += len(value)
        cursor = match.end()
    pieces.append(marked[cursor:])
    return "".join(pieces), spans


def load(path: Path = CORPUS) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text, spans = parse(row["text"])
        pad = row.get("pad")
        if pad:
            filler = pad["text"] * (pad["length"] // len(pad["text"]) + 1)
            text += filler[: max(0, pad["length"] - len(text))]
            suffix, suffix_spans = parse(row.get("suffix", ""))
            spans += [
                Span(s.type, s.start + len(text), s.end + len(text))
                for s in suffix_spans
            ]
            text += suffix
        cases.append(Case(row["id"], tuple(row["tags"]), text, tuple(spans)))
    return cases


def _matches(gold: Span, predicted: Span) -> bool:
    if gold.type != predicted.type:
        return False
    overlap = min(gold.end, predicted.end) - max(gold.start, predicted.start)
    union = max(gold.end, predicted.end) - min(gold.start, predicted.start)
    return overlap > 0 and overlap * 2 >= union


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f2(self) -> float:
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if p + r else 0.0


@dataclass
class Scores:
    by_type: dict[str, Counts] = field(default_factory=dict)
    misses: list[tuple[str, Span, str]] = field(default_factory=list)
    false_positives: list[tuple[str, Span, str]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def counts(self, entity_type: str) -> Counts:
        return self.by_type.setdefault(entity_type, Counts())

    def total(self, types: Iterable[str] | None = None) -> Counts:
        chosen = set(types) if types is not None else set(self.by_type)
        total = Counts()
        for entity_type, counts in self.by_type.items():
            if entity_type in chosen:
                total.tp += counts.tp
                total.fp += counts.fp
                total.fn += counts.fn
        return total


def score_case(case: Case, predicted: list[Span], scores: Scores) -> None:
    unmatched = list(predicted)
    for gold in case.entities:
        hit = next((p for p in unmatched if _matches(gold, p)), None)
        if hit is None:
            scores.counts(gold.type).fn += 1
            scores.misses.append((case.id, gold, case.text[gold.start : gold.end]))
        else:
            scores.counts(gold.type).tp += 1
            unmatched.remove(hit)
    for extra in unmatched:
        scores.counts(extra.type).fp += 1
        scores.false_positives.append(
            (case.id, extra, case.text[extra.start : extra.end])
        )


def evaluate(cases: Iterable[Case], predict: Callable[[str], list[Span]]) -> Scores:
    scores = Scores()
    for case in cases:
        try:
            predicted = predict(case.text)
        except Exception as exc:  # a crash scores as nothing found
            scores.errors[type(exc).__name__] += 1
            predicted = []
        score_case(case, predicted, scores)
    return scores


def missed_targets(scores: Scores) -> list[str]:
    """List the targets ``scores`` misses, as sentences; empty when all are
    met."""
    missed = []
    total = scores.total()
    if total.f2 < TARGET_F2:
        missed.append(f"overall F2 {total.f2:.3f} < {TARGET_F2}")
    if total.precision < TARGET_PRECISION:
        missed.append(f"overall precision {total.precision:.3f} < {TARGET_PRECISION}")
    for entity_type, floor in [(t, TARGET_FIXED_RECALL) for t in FIXED_FORMAT] + [
        (t, TARGET_FREE_RECALL) for t in FREE_FORM
    ]:
        counts = scores.by_type.get(entity_type)
        if counts is not None and counts.recall < floor:
            missed.append(f"{entity_type} recall {counts.recall:.3f} < {floor}")
    return missed
