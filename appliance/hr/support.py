"""Choosing the sentence that supports an answer, and deciding whether the
policies answer a question at all.

Each sentence of the retrieved passages is scored by the cosine similarity
of its embedding to the redacted question's, plus a bonus for the share of
the question's content words it contains. The best sentence is quoted with
the answer, whatever the model writes. A question is refused, without asking
the model, when the best passage's support score (cosine similarity plus a
bonus for the question words it contains) is below APPLIANCE_HR_MIN_SUPPORT:
a small model cannot be trusted to say "I don't know".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy
import regex
from spacy.lang.en.stop_words import STOP_WORDS

from appliance.hr import chunking
from appliance.hr.models import EMBEDDING_DIMENSIONS

# Weight of the share of question words found in a sentence.
OVERLAP_WEIGHT = 0.1
# Weight of the share of question words found in the best passage, in the
# support score that decides refusals.
COVERAGE_WEIGHT = 0.3
_LIST_ITEM = regex.compile(r"^\s*(?:[*+-]|\d+[.)])\s+|^\|")
_WORD = regex.compile(r"[\p{L}\p{N}]+")
# Words too common in HR questions to tell policies apart.
_QUESTION_WORDS = {"policy", "policies", "company", "employee", "employees", "work"}


@dataclass(frozen=True)
class Support:
    passage: int
    sentence: int
    text: str
    similarity: float
    overlap: float

    @property
    def score(self) -> float:
        return self.similarity + OVERLAP_WEIGHT * self.overlap


def terms(text: str) -> set[str]:
    """Content words of ``text``, lower-cased and cut to a crude stem."""
    found = set()
    for word in _WORD.findall(text.lower()):
        if word in STOP_WORDS or word in _QUESTION_WORDS or len(word) < 2:
            continue
        found.add(word[:5] if len(word) > 5 else word.removesuffix("s"))
    return found


def in_context(section: str, sentences: list[str]) -> list[str]:
    """Return the text embedded for each sentence: the nearest heading, and
    for a list item the sentence that introduces the list ("You earn:")."""
    heading = section.rsplit(" > ", 1)[-1]
    contexts = []
    lead = ""
    for sentence in sentences:
        text = chunking.plain(sentence)
        contexts.append(f"{heading}: {lead} {text}" if lead else f"{heading}: {text}")
        if text.endswith(":"):
            lead = text
        elif not _LIST_ITEM.match(sentence):
            lead = ""
    return contexts


def pack(vectors: list[list[float]]) -> bytes:
    """Store sentence vectors as float32, end to end."""
    return numpy.asarray(vectors, dtype=numpy.float32).tobytes()


def unpack(data: bytes) -> numpy.ndarray:
    """Read vectors stored by ``pack`` into a (sentences, dimensions) array."""
    return numpy.frombuffer(data, dtype=numpy.float32).reshape(-1, EMBEDDING_DIMENSIONS)


def rank_sentences(
    question_vector: list[float],
    question: str,
    passages: list[list[str]],
    vectors: list[bytes],
) -> list[Support]:
    """Score every sentence; return the best one of each passage, in passage
    order (a passage without sentences gets none). ``vectors`` contains each
    passage's packed sentence vectors."""
    wanted = terms(question)
    query = numpy.asarray(question_vector, dtype=numpy.float32)
    best: list[Support] = []
    for p, (sentences, packed) in enumerate(zip(passages, vectors, strict=True)):
        matrix = unpack(packed)
        if not sentences or len(matrix) != len(sentences):
            continue
        similarities = matrix @ query
        candidates = []
        for s, sentence in enumerate(sentences):
            found = terms(sentence)
            overlap = len(wanted & found) / len(wanted) if wanted else 0.0
            candidates.append(Support(p, s, sentence, float(similarities[s]), overlap))
        best.append(max(candidates, key=lambda item: item.score))
    return best


def coverage(question: str, passage: str) -> float:
    """Share of the question's content words that occur in ``passage``."""
    wanted = terms(question)
    return len(wanted & terms(passage)) / len(wanted) if wanted else 0.0


def support_score(similarity: float, coverage: float) -> float:
    """Score how well the best passage answers the question: its cosine
    similarity plus a bonus for the question words it contains."""
    return similarity + COVERAGE_WEIGHT * coverage
