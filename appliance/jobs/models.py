"""Submitted work and its state machine.

The jobs table, not the broker, is the record of what has to be done: a
message can be lost, a job cannot. Payloads (input, redacted input, result)
are stored sealed with AES-GCM, bound to the job id and field name. No
column contains text a person submitted in plaintext.

States::

    queued -> redacting -> inferring -> succeeded
       ^          |            |
       |          +------------+--> failed (reason)
       +-- retry (engine down, or the owner retries a failed job)
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from appliance.accounts.models import ApiKey, Team, User


class Workload(models.TextChoices):
    COMPLIANCE_CHECK = "compliance_check", "Compliance check"
    ANNOTATION = "annotation", "File annotation"


class State(models.TextChoices):
    QUEUED = "queued"
    REDACTING = "redacting"
    INFERRING = "inferring"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_STATES = (State.QUEUED, State.REDACTING, State.INFERRING)
FINAL_STATES = (State.SUCCEEDED, State.FAILED)


class Reason(models.TextChoices):
    """Failure reason codes. Clients branch on them, so they never change."""

    ENGINE_UNAVAILABLE = "engine_unavailable"
    REDACTION_FAILED = "redaction_failed"
    INVALID_INPUT = "invalid_input"
    ENGINE_REJECTED = "engine_rejected"
    MODEL_OUTPUT_INVALID = "model_output_invalid"
    DELIVERY_LIMIT_EXCEEDED = "delivery_limit_exceeded"
    PAYLOAD_BLOCKED = "payload_blocked"
    TIMED_OUT = "timed_out"
    INTERNAL_ERROR = "internal_error"
    # Why a submitted file could not be read (appliance.documents.errors).
    EMPTY_FILE = "empty_file"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT_FILE = "corrupt_file"
    ENCRYPTED_FILE = "encrypted_file"
    FILE_TOO_LARGE = "file_too_large"
    NEEDS_OCR = "needs_ocr"


# Reasons after which the owner may retry the job as it is.
RETRYABLE_REASONS = (
    Reason.ENGINE_UNAVAILABLE,
    Reason.DELIVERY_LIMIT_EXCEEDED,
    Reason.TIMED_OUT,
    Reason.INTERNAL_ERROR,
)


class JobQuerySet(models.QuerySet["Job"]):
    def visible_to(
        self, user: User | AnonymousUser, api_key: ApiKey | None = None
    ) -> JobQuerySet:
        """Jobs whose content ``user`` may read: their own, and those routed to
        them for review. Roles alone never widen this.

        A service account sees only the jobs submitted with the same API key,
        so that a key issued later (by an administrator, say) cannot read
        what earlier keys submitted.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_service_account:
            if api_key is None:
                return self.none()
            return self.filter(owner=user, api_key=api_key)
        return self.filter(Q(owner=user) | Q(reviewer=user))


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workload = models.CharField(max_length=32, choices=Workload.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs_to_review",
    )
    # The key a service account submitted with; see JobQuerySet.visible_to.
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)

    # Non-sensitive options chosen at submission (channel, rulebook id).
    options = models.JSONField(default=dict, blank=True)
    input_chars = models.PositiveIntegerField(default=0)
    input_sealed = models.BinaryField()
    redacted_sealed = models.BinaryField(null=True, blank=True)
    result_sealed = models.BinaryField(null=True, blank=True)

    # Delivery bookkeeping: see jobs.execution.
    deliveries = models.PositiveIntegerField(default=0)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    engine_attempts = models.PositiveIntegerField(default=0)
    engine_failing_since = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "updated_at"])]
        permissions = [
            ("submit_job", "Can submit work to the appliance"),
            ("review_job", "Can review results routed to them"),
        ]

    def __str__(self) -> str:
        return f"{self.workload} {self.id} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES
