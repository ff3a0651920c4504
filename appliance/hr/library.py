"""The policy library: adding policy versions and indexing their passages.

An upload extracts the document's text at once (a bad file is rejected
before anything is stored) and stores the version as ``pending``. Indexing
(cutting into passages and embedding them) runs in a worker, as the Celery
task ``hr.index_policy`` with the version id as its only argument, or in the
calling process for the ``ingest_policies`` command. It is idempotent: a
version is claimed with a guarded UPDATE, and its passages are replaced in
one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from appliance.accounts.models import Team, User
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.documents.extraction import DocumentError, extract
from appliance.hr import chunking, embeddings, support
from appliance.hr.models import Chunk, IndexState, Policy, PolicyVersion
from appliance.jobs.dispatch import publish

logger = logging.getLogger(__name__)

INDEX_TASK = "hr.index_policy"
# A version left ``indexing`` this long (its worker died) may be claimed again.
STALE_INDEXING = timedelta(minutes=15)

# Reason codes of a version whose indexing failed.
EMPTY_POLICY = "empty_policy"
EMBEDDINGS_INVALID = "embeddings_invalid"


class PolicyConflict(Exception):
    """The policy already has a version with that name."""


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    title: str
    version: str
    effective_from: date
    policy_key: str = ""
    teams: tuple[Team, ...] = ()


def add_version(
    upload: Upload, *, uploaded_by: User | None, enqueue: bool = True
) -> PolicyVersion:
    """Store a new policy version and queue its indexing after commit.

    Raises DocumentError for a file that cannot be read and PolicyConflict
    when the policy already has this version."""
    extracted = extract(upload.data)
    text = extracted.full_text()
    key = slugify(upload.policy_key or upload.title)[:120]
    if not key:
        raise DocumentError(
            "The policy needs a title or key made of letters or digits.",
            reason="invalid_input",
        )
    try:
        with transaction.atomic():
            policy, _ = Policy.objects.get_or_create(key=key)
            version = PolicyVersion.objects.create(
                policy=policy,
                title=upload.title[:200],
                version=upload.version[:40],
                effective_from=upload.effective_from,
                for_everyone=not upload.teams,
                source_name=upload.filename[:255],
                content_type=extracted.content_type,
                text=text,
                uploaded_by=uploaded_by,
            )
            version.teams.set(upload.teams)
            record(
                "hr.policy_uploaded",
                actor=uploaded_by,
                object_type="policy_version",
                object_id=version.id,
                details={
                    "policy": key,
                    "version": version.version,
                    "effective_from": version.effective_from.isoformat(),
                    "teams": [team.id for team in upload.teams],
                    "chars": len(text),
                },
            )
            if enqueue:
                version_id = str(version.id)
                transaction.on_commit(lambda: publish(INDEX_TASK, version_id))
    except IntegrityError:
        raise PolicyConflict(key, upload.version) from None
    return version


def _claim(version_id: int) -> bool:
    stale = timezone.now() - STALE_INDEXING
    claimable = Q(state=IndexState.PENDING) | Q(
        state=IndexState.INDEXING, indexing_started_at__lt=stale
    )
    updated = PolicyVersion.objects.filter(claimable, id=version_id).update(
        state=IndexState.INDEXING, indexing_started_at=timezone.now(), reason=""
    )
    return updated == 1


def _fail(version: PolicyVersion, reason: str) -> str:
    PolicyVersion.objects.filter(id=version.id).update(
        state=IndexState.FAILED, reason=reason
    )
    record(
        "hr.policy_index_failed",
        object_type="policy_version",
        object_id=version.id,
        outcome=Outcome.FAILURE,
        details={"reason": reason},
        durable=True,
    )
    return IndexState.FAILED


def index_version(version_id: int) -> str:
    """Cut a pending version into passages, embed them and store them.
    Returns the version's state; does nothing to a version another delivery
    has claimed or finished. Raises EmbeddingsUnavailable, after putting the
    version back to pending, when the embeddings endpoint does not answer."""
    if not _claim(version_id):
        state: str = (
            PolicyVersion.objects.filter(id=version_id)
            .values_list("state", flat=True)
            .first()
            or "missing"
        )
        return state
    version = PolicyVersion.objects.get(id=version_id)
    passages = chunking.chunk(version.text)
    if not passages:
        return _fail(version, EMPTY_POLICY)
    split = [chunking.sentences(passage.text) for passage in passages]
    contexts = [
        support.in_context(passage.section, sentences)
        for passage, sentences in zip(passages, split, strict=True)
    ]
    try:
        vectors = embeddings.embed([embedding_input(version, p) for p in passages])
        sentence_vectors = embeddings.embed([t for texts in contexts for t in texts])
    except embeddings.EmbeddingsUnavailable:
        PolicyVersion.objects.filter(id=version.id).update(state=IndexState.PENDING)
        raise
    except embeddings.EmbeddingsInvalid:
        return _fail(version, EMBEDDINGS_INVALID)

    offsets = [0]
    for sentences in split:
        offsets.append(offsets[-1] + len(sentences))
    with transaction.atomic():
        Chunk.objects.filter(version=version).delete()
        Chunk.objects.bulk_create(
            Chunk(
                version=version,
                ordinal=index,
                section=passage.section,
                text=passage.text,
                embedding=vector,
                sentence_vectors=support.pack(
                    sentence_vectors[offsets[index] : offsets[index + 1]]
                ),
            )
            for index, (passage, vector) in enumerate(
                zip(passages, vectors, strict=True)
            )
        )
        PolicyVersion.objects.filter(id=version.id).update(state=IndexState.READY)
        record(
            "hr.policy_indexed",
            object_type="policy_version",
            object_id=version.id,
            details={"passages": len(passages)},
        )
    refresh_terms()
    logger.info("policy version %s indexed: %d passages", version.id, len(passages))
    return IndexState.READY


def refresh_terms() -> None:
    """Recount how many passages contain each full-text lexeme."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE hr_term IN EXCLUSIVE MODE")
        cursor.execute("DELETE FROM hr_term")
        cursor.execute(
            "INSERT INTO hr_term (lexeme, passages) "
            "SELECT word, ndoc FROM ts_stat('SELECT search FROM hr_chunk')"
        )
        cursor.execute(
            "INSERT INTO hr_term (lexeme, passages) SELECT '', count(*) FROM hr_chunk"
        )


def embedding_input(version: PolicyVersion, passage: chunking.Passage) -> str:
    """The text embedded for a passage: the policy's title and the section's
    headings give a short passage its topic."""
    heading = (
        f"{version.title} > {passage.section}" if passage.section else version.title
    )
    return f"{heading}\n{chunking.plain(passage.text)}"


def requeue_pending() -> int:
    """Send the indexing task again for every pending or stale version (a lost
    message, a worker that died); returns how many were sent."""
    stale = timezone.now() - STALE_INDEXING
    ids = PolicyVersion.objects.filter(
        Q(state=IndexState.PENDING)
        | Q(state=IndexState.INDEXING, indexing_started_at__lt=stale)
    ).values_list("id", flat=True)
    return sum(publish(INDEX_TASK, str(version_id)) for version_id in ids)
