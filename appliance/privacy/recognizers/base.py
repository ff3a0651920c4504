"""What every recognizer shares: bounded regex matching that fails closed,
context words, and Presidio's result type.

Presidio's own PatternRecognizer logs and skips a pattern that times out,
which would let the value through; here a timeout raises AnalysisTimeout and
the caller fails the whole analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers.validators import (
    CHECKSUMS,
    OVERRIDABLE,
    VALIDATORS,
)
from appliance.privacy.registry import FLAGS, RecognizerSpec

# Score of a match whose checksum validated, when its pattern alone was
# already above the threshold.
CHECKSUM_SCORE = 0.95


class AnalysisTimeout(Exception):
    """A regex ran past its time limit; the text cannot be vouched for."""


@dataclass(frozen=True)
class Settings:
    """Knobs every recognizer reads, from the registry and the settings."""

    timeout: float
    context_boost: float = 0.35
    before: int = 48
    after: int = 24
    threshold: float = 0.5


def find_all(
    pattern: regex.Pattern[str], text: str, timeout: float, *, overlapped: bool = False
) -> list[regex.Match[str]]:
    """Return all matches of ``pattern``; raise AnalysisTimeout after
    ``timeout`` seconds."""
    try:
        return list(pattern.finditer(text, overlapped=overlapped, timeout=timeout))
    except TimeoutError:
        raise AnalysisTimeout(pattern.pattern[:40]) from None


def match_at(
    pattern: regex.Pattern[str], text: str, position: int, timeout: float
) -> regex.Match[str] | None:
    """Match ``pattern`` at ``position`` of ``text``; raise AnalysisTimeout
    after ``timeout`` seconds."""
    try:
        return pattern.match(text, position, timeout=timeout)
    except TimeoutError:
        raise AnalysisTimeout(pattern.pattern[:40]) from None


def trie_pattern(words: Iterable[str]) -> str:
    """Build a regex that matches any of ``words``, longest first, with shared
    prefixes factored out ("back (?:injury|pain)"), which the regex engine
    scans about twice as fast as a flat alternation of 140 terms."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [
            regex.escape(c) + build(child) for c, child in sorted(node.items()) if c
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def word_pattern(words: Iterable[str]) -> regex.Pattern[str] | None:
    """Compile a pattern for any of ``words`` at a word boundary. Words
    match as prefixes, so "terminat" finds "terminated" and "termination"."""
    cleaned = {word.strip().lower() for word in words if word.strip()}
    if not cleaned:
        return None
    return regex.compile(r"(?<![\w])" + trie_pattern(cleaned), FLAGS)


class ContextWords:
    """Positive and negative words in a window around a match."""

    def __init__(
        self,
        positive: Iterable[str],
        negative: Iterable[str],
        settings: Settings,
    ) -> None:
        self.positive = word_pattern(positive)
        self.negative = word_pattern(negative)
        self.settings = settings

    def _window(self, text: str, start: int, end: int) -> str:
        before = text[max(0, start - self.settings.before) : start]
        return before + " " + text[end : end + self.settings.after]

    def has_positive(self, text: str, start: int, end: int) -> bool:
        window = self._window(text, start, end)
        return bool(self.positive and self.positive.search(window))

    def has_positive_before(self, text: str, start: int) -> bool:
        before = text[max(0, start - self.settings.before) : start]
        return bool(self.positive and self.positive.search(before))

    def has_negative(self, text: str, start: int, end: int) -> bool:
        """Negative words count only within the match's own sentence."""
        window = self._window(text, start, end)
        split = start - max(0, start - self.settings.before)
        before, after = window[:split], window[split:]
        sentence_start = max(before.rfind(". "), before.rfind("\n"))
        after_end = min(
            (i for i in (after.find(". "), after.find("\n")) if i > 0),
            default=len(after),
        )
        window = before[sentence_start + 1 :] + after[:after_end]
        return bool(self.negative and self.negative.search(window))


def result(
    entity: str, start: int, end: int, score: float, recognizer: str
) -> RecognizerResult:
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=round(min(score, 1.0), 3),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer,
        },
    )


class BoundedPatternRecognizer(PatternRecognizer):
    """Presidio's pattern recognizer with a per-pattern time limit, named
    validators, negative context and a ``value`` group that narrows the
    span to the identifier itself."""

    def __init__(self, spec: RecognizerSpec, settings: Settings) -> None:
        super().__init__(
            supported_entity=spec.entity,
            name=spec.name,
            patterns=[Pattern(p.name, p.regex, p.score) for p in spec.patterns],
            context=list(spec.context),
            global_regex_flags=FLAGS,
        )
        self.spec = spec
        self.settings = settings
        self.compiled = [regex.compile(p.regex, FLAGS) for p in spec.patterns]
        self.context_words = ContextWords(spec.context, spec.negative_context, settings)
        self.validator = VALIDATORS[spec.validator] if spec.validator else None

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        found: list[RecognizerResult] = []
        positive = self.context_words.positive
        if self.spec.context_required and not (positive and positive.search(text)):
            return found
        lowered = text.lower()
        for pattern, compiled in zip(self.spec.patterns, self.compiled, strict=True):
            if pattern.requires and not any(r in lowered for r in pattern.requires):
                continue
            for match in find_all(compiled, text, self.settings.timeout):
                span = match.span("value") if "value" in compiled.groupindex else None
                start, end = span if span and span[0] >= 0 else match.span()
                score = self.score(text, start, end, pattern.score)
                if score is not None and end > start:
                    found.append(
                        result(self.spec.entity, start, end, score, self.spec.name)
                    )
        return found

    def score(self, text: str, start: int, end: int, base: float) -> float | None:
        """Score a match after validation and context; None drops it.

        A value that fails its validator is still reported, with a lower
        score, when a context word before it names it ("credit card
        1234-5678-1234-5678", "SSN 900-12-3456"): a mistyped or made-up
        identifier that the text calls one is redacted all the same. IP
        addresses are the exception, because "999.1.1.1" is no address."""
        positive = self.context_words.has_positive(text, start, end)
        valid = self.validator is None or self.validator(text[start:end])
        if not valid and not (
            self.spec.validator in OVERRIDABLE
            and self.context_words.has_positive_before(text, start)
        ):
            return None
        if self.spec.context_required and not positive:
            return None
        if not positive and self.context_words.has_negative(text, start, end):
            return None
        score = base + (self.settings.context_boost if positive else 0.0)
        if not valid:
            return score * 0.8
        if self.spec.validator in CHECKSUMS and base >= self.settings.threshold:
            score = max(score, CHECKSUM_SCORE)
        return score
