"""Rulebooks as versioned data, and the human review of a check's verdict.

A rulebook version is immutable once created: editing a rule creates a new
version, and a verdict records the exact version it was checked against.
A review is the record of a person's decision on a fail or needs_review
verdict: who, when, why, which findings they overrode, and the versions of
the rulebook, the model and the prompt behind the verdict. Reviewers'
reasons can quote the checked text, so they are stored sealed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from appliance.jobs.models import Job


class Severity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Rulebook(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    current = models.ForeignKey(
        "RulebookVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class RulebookVersion(models.Model):
    rulebook = models.ForeignKey(
        Rulebook, on_delete=models.PROTECT, related_name="versions"
    )
    # Sequential per rulebook; verdicts cite it as the rulebook version.
    number = models.PositiveIntegerField()
    # The version a seed file declared ("2.0"), empty for versions made by edits.
    label = models.CharField(max_length=32, blank=True)
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rulebook", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["rulebook", "number"], name="rulebook_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rulebook.slug} v{self.number}"


class Rule(models.Model):
    version = models.ForeignKey(
        RulebookVersion, on_delete=models.PROTECT, related_name="rules"
    )
    position = models.PositiveIntegerField(default=0)
    rule_id = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    instruction = models.TextField(
        help_text="The yes/no question the model answers about the text."
    )
    examples = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of {"text": ..., "violates": true|false}. Use '
        "placeholders such as <PERSON_A>, never real personal data.",
    )
    strong = models.JSONField(default=list, blank=True)
    weak = models.JSONField(default=list, blank=True)
    unless = models.JSONField(default=list, blank=True)
    context = models.JSONField(default=list, blank=True)
    unless_scope = models.CharField(
        max_length=8,
        default="overlap",
        choices=[("overlap", "overlap"), ("text", "text")],
    )
    channels = models.JSONField(default=list, blank=True)
    products = models.JSONField(default=list, blank=True)
    audiences = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "rule_id"], name="rule_id_unique_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} ({self.version})"


class ReviewState(models.TextChoices):
    OPEN = "open"
    SIGNED_OFF = "signed_off"


class Review(models.Model):
    """A fail or needs_review verdict awaiting, or carrying, a person's
    sign-off. One per job."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.OneToOneField(
        Job, on_delete=models.PROTECT, related_name="compliance_review"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="compliance_reviews",
    )
    state = models.CharField(
        max_length=16, choices=ReviewState.choices, default=ReviewState.OPEN
    )
    machine_verdict = models.CharField(max_length=16)
    final_verdict = models.CharField(max_length=16, blank=True)
    suggest_escalation = models.BooleanField(default=False)

    rulebook_version = models.ForeignKey(
        RulebookVersion, on_delete=models.PROTECT, related_name="reviews"
    )
    engine = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    model_version = models.CharField(max_length=200, blank=True)
    prompt_hash = models.CharField(max_length=64)
    schema_hash = models.CharField(max_length=64)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    sign_off_reason_sealed = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        permissions = [
            ("review_compliance", "Can review compliance checks routed to them"),
        ]

    def __str__(self) -> str:
        return f"review of {self.job_id} ({self.state})"


class Decision(models.TextChoices):
    ACCEPT = "accept"
    OVERRIDE = "override"


class FindingDecision(models.Model):
    """A reviewer's decision on one finding of the verdict (by its index)."""

    review = models.ForeignKey(
        Review, on_delete=models.PROTECT, related_name="decisions"
    )
    index = models.PositiveIntegerField()
    rule_id = models.CharField(max_length=32)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    # The finding's status after the decision: the machine's status when
    # accepted, the reviewer's ("pass" dismisses the finding) when overridden.
    status = models.CharField(max_length=16)
    reason_sealed = models.BinaryField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "index"], name="one_decision_per_finding"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} finding {self.index} of {self.review_id}"
