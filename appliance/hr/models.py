"""The HR policy library, its indexed passages, and staff conversations.

A policy has versions; each version has a title, an effective date and an
audience (everyone, or named teams), and its text is cut into passages
(``Chunk``) along its sections. A passage carries its embedding (pgvector,
HNSW index) and a generated ``tsvector`` (GIN index) for full-text search.
Policy text is company content and is stored as written; what staff ask is
personal and is stored sealed (AES-GCM) in ``Turn``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from appliance.accounts.models import Team

# all-MiniLM-L6-v2 produces 384 numbers; an embeddings endpoint must too.
EMBEDDING_DIMENSIONS = 384


class Policy(models.Model):
    """One policy across its versions, found by a stable key."""

    key = models.SlugField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "policies"
        permissions = [("manage_policies", "Can upload HR policy documents")]

    def __str__(self) -> str:
        return self.key


class IndexState(models.TextChoices):
    PENDING = "pending"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class PolicyVersion(models.Model):
    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="versions"
    )
    title = models.CharField(max_length=200)
    version = models.CharField(max_length=40)
    effective_from = models.DateField()
    # False: only members of ``teams`` are shown this version.
    for_everyone = models.BooleanField(default=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="policy_versions")
    source_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    state = models.CharField(
        max_length=16, choices=IndexState.choices, default=IndexState.PENDING
    )
    # A reason code when indexing failed (see docs/hr.md).
    reason = models.CharField(max_length=40, blank=True)
    indexing_started_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="uploaded_hr_policies",
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["policy", "-effective_from", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "version"], name="hr_policy_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version} ({self.effective_from})"


class Chunk(models.Model):
    """A passage of a policy version: one section, or part of a long one."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="chunks"
    )
    ordinal = models.PositiveIntegerField()
    # Headings from the top of the document down to this passage, joined by
    # " > ".
    section = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    # One float32 embedding per sentence (``chunking.sentences``), end to
    # end, for choosing the sentence to quote without embedding at answer
    # time.
    sentence_vectors = models.BinaryField(default=bytes)
    search = models.GeneratedField(
        expression=SearchVector("section", "text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["version", "ordinal"]
        indexes = [
            GinIndex(fields=["search"], name="hr_chunk_search_gin"),
            HnswIndex(
                name="hr_chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_id}#{self.ordinal}"


class Term(models.Model):
    """How many passages contain a full-text lexeme, refreshed after each
    indexing. Full-text search leaves out lexemes that most passages contain,
    which would make it rank nearly every passage. The row with the empty
    lexeme counts all passages."""

    lexeme = models.TextField(primary_key=True)
    passages = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.lexeme} ({self.passages})"


class Conversation(models.Model):
    """A thread of questions by one person; its pseudonyms share one vault
    scope, so a name keeps its token from turn to turn."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hr_threads"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def scope_id(self) -> str:
        return f"hr:{self.id}"


class Turn(models.Model):
    """One question and its answer. The redacted question and answer are
    sealed; citations name policy passages and quote policy text only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="turns"
    )
    ordinal = models.PositiveIntegerField()
    sealed = models.BinaryField()
    refused = models.BooleanField(default=False)
    citations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "ordinal"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "ordinal"], name="hr_turn_ordinal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.ordinal}"


class Feedback(models.Model):
    class Rating(models.TextChoices):
        HELPFUL = "helpful"
        WRONG = "wrong"

    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    rating = models.CharField(max_length=16, choices=Rating.choices)
    # The person's comment, sealed: it may name people.
    comment_sealed = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["turn", "user"], name="hr_feedback_once")
        ]
        permissions = [("review_feedback", "Can review feedback on HR answers")]

    def __str__(self) -> str:
        return f"{self.turn_id} {self.rating}"
