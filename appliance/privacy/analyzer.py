"""The analyzer: finds personal data in texts, built once per process.

For each text: normalize it (normalization.py), cut it into overlapping
chunks, run spaCy's named-entity recognizer over all chunks of all texts in
one ``nlp.pipe`` call, run the registry's recognizers over each chunk, then
per text drop allow-listed findings, spread names to their other mentions,
resolve overlaps and map every span back to the original text.

spaCy runs only the components its NER needs (with en_core_web_sm, the NER
component alone: it has its own tok2vec layer), because the tagger, parser
and lemmatizer cost about as much again and the recognizers use none of
their output. Presidio's AnalyzerEngine is not used: it runs the whole
pipeline, has no chunking, skips patterns that time out and sees only the
raw text; its recognizer and result types are used throughout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import spacy
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.language import Language

from appliance.privacy.errors import InputTooLarge
from appliance.privacy.normalization import Normalized, normalize
from appliance.privacy.recognizers import (
    AllowList,
    AnalysisTimeout,
    PersonRecognizer,
    Recognizer,
    Settings,
    build_recognizers,
)
from appliance.privacy.registry import RegistryConfig

logger = logging.getLogger(__name__)

# Chunks stay far below spaCy's 1,000,000-character limit, and overlap by
# more than twice the longest entity (an address of 150 characters), so an
# entity that straddles a boundary lies whole inside one chunk's half of the
# overlap.
CHUNK_CHARS = 20_000
CHUNK_OVERLAP = 400
NLP_BATCH_SIZE = 64


@dataclass(frozen=True)
class Finding:
    """One entity: its type, its span in the original text, how sure the
    recognizer is and which one found it."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


@dataclass(frozen=True)
class Chunk:
    """Part of one text: ``[start, end)`` is analyzed and findings that
    start in ``[own_start, own_end)`` are kept."""

    index: int
    start: int
    end: int
    own_start: int
    own_end: int


def ner_pipeline(model: str) -> Language:
    """Load spaCy ``model`` with only NER and what NER listens to enabled."""
    nlp = spacy.load(model)
    needed = {"ner"}
    ner: Any = nlp.get_pipe("ner")
    for node in ner.model.walk():
        upstream = getattr(node, "upstream_name", None)
        if upstream:
            needed.add(upstream)
    for name in list(nlp.pipe_names):
        if name not in needed:
            nlp.disable_pipe(name)
    return nlp


def chunk_spans(
    length: int, text: str, size: int, overlap: int
) -> list[tuple[int, int]]:
    """``[start, end)`` spans covering ``text``, cut at white space where
    one is near, each overlapping the next by about ``overlap``."""
    if length <= size:
        return [(0, length)]
    spans = []
    start = 0
    while True:
        end = min(start + size, length)
        if end < length:
            space = text.rfind(" ", end - overlap // 2, end)
            end = space if space > start else end
        spans.append((start, end))
        if end >= length:
            return spans
        start = max(end - overlap, start + 1)


def resolve(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Merge overlapping findings of one type, then keep the strongest of
    findings of different types that overlap: higher score, then longer."""
    merged: list[RecognizerResult] = []
    for current in sorted(results, key=lambda r: (r.entity_type, r.start, -r.end)):
        last = merged[-1] if merged else None
        if (
            last
            and last.entity_type == current.entity_type
            and current.start < last.end
        ):
            if current.score > last.score:
                last.score = current.score
                last.recognition_metadata = current.recognition_metadata
            last.end = max(last.end, current.end)
        else:
            merged.append(current)
    ranked = sorted(merged, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    chosen: list[RecognizerResult] = []
    for candidate in ranked:
        if all(candidate.end <= c.start or candidate.start >= c.end for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda r: r.start)


class Analyzer:
    def __init__(
        self,
        config: RegistryConfig,
        settings: Settings,
        *,
        nlp: Language | None,
        max_chars: int,
        deadline: float,
        chunk_chars: int = CHUNK_CHARS,
        chunk_overlap: int = CHUNK_OVERLAP,
    ) -> None:
        self.config = config
        self.settings = settings
        self.nlp = nlp
        self.max_chars = max_chars
        self.deadline = deadline
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap
        self.recognizers: list[Recognizer] = build_recognizers(
            config, settings, identifiers_only=nlp is None
        )
        self.person = next(
            (r for r in self.recognizers if isinstance(r, PersonRecognizer)), None
        )
        self.allow = AllowList(config, settings)

    def analyze(self, text: str) -> list[Finding]:
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings for each text, with offsets into that text.

        Raises InputTooLarge for a text over ``max_chars`` and
        AnalysisTimeout when a pattern or the whole batch runs too long."""
        for text in texts:
            if len(text) > self.max_chars:
                raise InputTooLarge(len(text), self.max_chars)
        expires = time.monotonic() + self.deadline
        normalized = [normalize(text) for text in texts]
        chunks = [
            Chunk(index, start, end, *self._ownership(spans, position))
            for index, item in enumerate(normalized)
            for spans in [
                chunk_spans(
                    len(item.text), item.text, self.chunk_chars, self.chunk_overlap
                )
            ]
            for position, (start, end) in enumerate(spans)
        ]
        found: list[list[RecognizerResult]] = [[] for _ in texts]
        for chunk, doc in zip(chunks, self._docs(normalized, chunks), strict=True):
            if time.monotonic() > expires:
                raise AnalysisTimeout("analysis deadline")
            text = normalized[chunk.index].text[chunk.start : chunk.end]
            for item in self._recognize(text, doc):
                item.start += chunk.start
                item.end += chunk.start
                if chunk.own_start <= item.start < chunk.own_end:
                    found[chunk.index].append(item)
        return [self._finish(item, found[i]) for i, item in enumerate(normalized)]

    @staticmethod
    def _ownership(spans: list[tuple[int, int]], position: int) -> tuple[int, int]:
        start, end = spans[position]
        own_start = 0 if position == 0 else (start + spans[position - 1][1]) // 2
        if position == len(spans) - 1:
            return own_start, end + 1
        return own_start, (spans[position + 1][0] + end) // 2

    def _docs(self, normalized: list[Normalized], chunks: list[Chunk]) -> Any:
        if self.nlp is None:
            return [None] * len(chunks)
        texts = (normalized[c.index].nlp_text[c.start : c.end] for c in chunks)
        return self.nlp.pipe(texts, batch_size=NLP_BATCH_SIZE)

    def _recognize(self, text: str, doc: Any) -> list[RecognizerResult]:
        artifacts = None
        if doc is not None:
            artifacts = NlpArtifacts(
                entities=list(doc.ents),
                tokens=doc,
                tokens_indices=[],
                lemmas=[],
                nlp_engine=None,
                language="en",
            )
        results: list[RecognizerResult] = []
        for recognizer in self.recognizers:
            results += recognizer.analyze(
                text, recognizer.supported_entities, artifacts
            )
        return results

    def _finish(
        self, normalized: Normalized, results: list[RecognizerResult]
    ) -> list[Finding]:
        text = normalized.text
        threshold = self.settings.threshold
        results = [r for r in self.allow.filter(text, results) if r.score >= threshold]
        if self.person is not None:
            people = [r for r in results if r.entity_type == self.person.spec.entity]
            results += self.allow.filter(text, self.person.spread(text, people))
        findings = []
        for item in resolve(results):
            start, end = normalized.to_original(item.start, item.end)
            if end > start:
                findings.append(
                    Finding(
                        entity_type=item.entity_type,
                        start=start,
                        end=end,
                        score=float(item.score),
                        recognizer=str(
                            item.recognition_metadata.get(
                                RecognizerResult.RECOGNIZER_NAME_KEY, ""
                            )
                        ),
                    )
                )
        return findings
