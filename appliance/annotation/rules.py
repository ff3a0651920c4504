"""The deterministic part of an annotation: document type from the format and
keyword patterns, tags, data classification from PII counts and patterns,
retention category, and language.

These run over the original text on the worker and send nothing anywhere,
and they carry the annotation's accuracy: the model only adds a summary and
fills in a type or tags where the rules found none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from appliance.annotation.taxonomy import Taxonomy

# Characters of text the patterns and the language detector read. Openings
# carry the markers (headers, titles) and this bounds the time per file.
SCAN_CHARS = 200_000
LANGUAGE_SAMPLE_CHARS = 10_000
# Below this many letters, or below this confidence, the language is "und"
# (ISO 639-2 for undetermined).
MIN_LANGUAGE_LETTERS = 20
MIN_LANGUAGE_CONFIDENCE = 0.5
UNDETERMINED = "und"
FALLBACK_TYPE = "other"

_LETTER = re.compile(r"[^\W\d_]")


def document_type(taxonomy: Taxonomy, text: str, content_type: str) -> tuple[str, str]:
    """The type id and where it came from: ``format``, ``rules`` or ``none``
    (no rule reached its minimum score)."""
    for rule in taxonomy.document_types:
        if content_type in rule.formats:
            return rule.id, "format"
    sample = text[:SCAN_CHARS]
    best, best_score = None, 0
    for rule in taxonomy.document_types:
        score = rule.score(sample)
        if score >= rule.min_score and score > best_score:
            best, best_score = rule.id, score
    if best is None:
        fallback = FALLBACK_TYPE if FALLBACK_TYPE in taxonomy.type_ids else None
        return fallback or taxonomy.type_ids[-1], "none"
    return best, "rules"


def tags(taxonomy: Taxonomy, text: str) -> list[str]:
    """Tags whose patterns reach their minimum score, in taxonomy order."""
    sample = text[:SCAN_CHARS]
    return [rule.id for rule in taxonomy.tags if rule.score(sample) >= rule.min_score]


def classify(
    taxonomy: Taxonomy, text: str, pii: Mapping[str, int], type_id: str
) -> tuple[str, list[str]]:
    """The classification level and the conditions that chose it
    (``pii:TYPE``, ``document_type``, ``pattern`` or ``default``)."""
    sample = text[:SCAN_CHARS]
    for level in taxonomy.levels:
        reasons = []
        found = {kind: count for kind, count in pii.items() if kind in level.pii_types}
        if found and sum(found.values()) >= level.min_entities:
            reasons += [f"pii:{kind}" for kind in sorted(found)]
        if type_id in level.document_types:
            reasons.append("document_type")
        if any(pattern.search(sample) for pattern in level.patterns):
            reasons.append("pattern")
        if reasons:
            return level.level, reasons
    return taxonomy.levels[-1].level, ["default"]


def retention(taxonomy: Taxonomy, text: str, type_id: str) -> str:
    """A retention category whose patterns match, else the document type's."""
    sample = text[:SCAN_CHARS]
    for rule in taxonomy.retention:
        if rule.score(sample) >= rule.min_score and rule.patterns:
            return rule.id
    return taxonomy.document_type(type_id).retention


@lru_cache(maxsize=1)
def _identifier() -> Any:
    # Imported here: loading the model takes about half a second, which only
    # processes that annotate should pay.
    from py3langid.langid import (  # type: ignore[import-untyped]
        MODEL_FILE,
        LanguageIdentifier,
    )

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language(text: str) -> tuple[str, float]:
    """The ISO 639-1 code of the text's language (py3langid) and its
    probability, or ``und`` with 0.0 when the text is too short or unclear."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LANGUAGE_LETTERS:
        return UNDETERMINED, 0.0
    code, probability = _identifier().classify(sample)
    confidence = round(float(probability), 4)
    if confidence < MIN_LANGUAGE_CONFIDENCE:
        return UNDETERMINED, confidence
    return str(code), confidence
