"""Hybrid retrieval over the passages a person may be shown.

Only passages of the versions in effect for the asker take part: per policy,
the newest version whose effective date has come and whose audience includes
the asker (everyone, or the asker's team). Two searches run over them: cosine
similarity of embeddings (pgvector, HNSW index) and PostgreSQL full-text
search (GIN index). Reciprocal rank fusion merges the two rankings, so each
passage scores the sum of 1 / (RRF_K + rank) over the lists it is in.

The question arrives redacted. Pseudonym tokens are replaced by their type
in words before embedding ("<HEALTH_CONDITION_1>" reads "health condition"),
so a redacted question still finds the policy that covers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import regex
from django.db import connection, transaction
from django.db.models import Q

from appliance.accounts.models import User
from appliance.hr import embeddings
from appliance.hr.models import Chunk, IndexState, PolicyVersion
from appliance.privacy import tokens

RRF_K = 60
# Candidates each search contributes to the fusion.
CANDIDATES = 20
# Entries the HNSW search keeps while it walks the graph; above CANDIDATES so
# that the audience filter, applied after the walk, leaves enough.
EF_SEARCH = 100


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    version_id: int
    score: float
    # Cosine similarity to the question; None when only full-text found it.
    similarity: float | None
    text_rank: int | None
    vector_rank: int | None


@dataclass
class Retrieval:
    hits: list[Hit]
    query_vector: list[float] = field(repr=False)
    versions: list[int] = field(default_factory=list)

    @property
    def best_similarity(self) -> float:
        values = [hit.similarity for hit in self.hits if hit.similarity is not None]
        return max(values, default=0.0)


def current_versions(user: User, as_of: date) -> list[int]:
    """Ids of the version of each policy in effect for ``user`` on ``as_of``."""
    audience = Q(for_everyone=True)
    if user.team_id is not None:
        audience |= Q(teams=user.team_id)
    rows = (
        PolicyVersion.objects.filter(
            audience, state=IndexState.READY, effective_from__lte=as_of
        )
        .order_by("policy_id", "-effective_from", "-uploaded_at", "-id")
        .distinct("policy_id")
        .values_list("id", flat=True)
    )
    return list(rows)


def query_text(redacted: str) -> str:
    """Replace each pseudonym token with its entity type in words."""

    def words(match: regex.Match[str]) -> str:
        return match.group(1).replace("_", " ").lower()

    return tokens.ISSUED.sub(words, redacted)


def _vector(value: list[float]) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in value) + "]"


_VECTOR_SQL = """
SELECT id, 1 - (embedding <=> %(q)s::vector) AS similarity
FROM hr_chunk
WHERE version_id = ANY(%(versions)s)
ORDER BY embedding <=> %(q)s::vector
LIMIT %(limit)s
"""

_LEXEMES_SQL = """
SELECT
    w.lexeme,
    coalesce(t.passages, 0),
    (SELECT passages FROM hr_term WHERE lexeme = '')
FROM unnest(tsvector_to_array(to_tsvector('english', %(text)s))) AS w(lexeme)
LEFT JOIN hr_term t ON t.lexeme = w.lexeme
"""

# A question rarely shares every word with its answer, so the lexemes are
# joined with OR, not AND as plainto_tsquery would.
_TEXT_SQL = """
WITH q AS (SELECT to_tsquery('simple', %(query)s) AS query)
SELECT c.id, ts_rank(c.search, q.query, 1) AS rank
FROM hr_chunk c, q
WHERE c.version_id = ANY(%(versions)s)
  AND c.search @@ q.query
ORDER BY rank DESC, c.id
LIMIT %(limit)s
"""
# Lexemes found in more than this share of all passages are left out of the
# full-text query, unless every lexeme of the question is that common.
COMMON_SHARE = 0.15


def _text_query(cursor: Any, text: str) -> str | None:
    """Build the OR query of the question's informative lexemes."""
    cursor.execute(_LEXEMES_SQL, {"text": text})
    rows = cursor.fetchall()
    present = [(lexeme, count) for lexeme, count, _ in rows if count > 0]
    if not present:
        return None
    total = rows[0][2] or 1
    rare = [lexeme for lexeme, count in present if count <= COMMON_SHARE * total]
    chosen = rare or [lexeme for lexeme, _ in present]
    return " | ".join("'" + lexeme.replace("'", "''") + "'" for lexeme in chosen)


def search(
    vector: list[float], text: str, versions: list[int], limit: int
) -> list[Hit]:
    """Run both searches over ``versions`` and return the fused top ``limit``."""
    if not versions:
        return []
    params: dict[str, Any] = {
        "q": _vector(vector),
        "text": text,
        "versions": versions,
        "limit": CANDIDATES,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
        cursor.execute(_VECTOR_SQL, params)
        by_vector = cursor.fetchall()
        params["query"] = _text_query(cursor, text)
        by_text = []
        if params["query"]:
            cursor.execute(_TEXT_SQL, params)
            by_text = cursor.fetchall()

    similarity = {row[0]: float(row[1]) for row in by_vector}
    vector_rank = {row[0]: rank for rank, row in enumerate(by_vector, 1)}
    text_rank = {row[0]: rank for rank, row in enumerate(by_text, 1)}
    scores: dict[int, float] = {}
    for ranks in (vector_rank, text_rank):
        for chunk_id, rank in ranks.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(scores, key=lambda chunk_id: (-scores[chunk_id], chunk_id))[:limit]
    version_of = dict(Chunk.objects.filter(id__in=best).values_list("id", "version_id"))
    return [
        Hit(
            chunk_id=chunk_id,
            version_id=version_of[chunk_id],
            score=scores[chunk_id],
            similarity=similarity.get(chunk_id),
            text_rank=text_rank.get(chunk_id),
            vector_rank=vector_rank.get(chunk_id),
        )
        for chunk_id in best
    ]


def retrieve(user: User, redacted_question: str, as_of: date, limit: int) -> Retrieval:
    """Embed the redacted question and search the passages ``user`` may see."""
    text = query_text(redacted_question)
    vector = embeddings.embed([text])[0]
    versions = current_versions(user, as_of)
    return Retrieval(
        hits=search(vector, text, versions, limit),
        query_vector=vector,
        versions=versions,
    )
