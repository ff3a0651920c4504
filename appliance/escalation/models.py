"""Escalation policies, requests and approvals.

A request contains the exact bytes that would leave the building, sealed
with the data key and bound to the request id, with their SHA-256 in clear
so that every approval can name the bytes it approved. No column contains
prompt text, an answer or an approver's comment in plaintext.

States::

    denied (by policy; never sendable)
    pending -> approved -> sending -> sent
       |          |           +-----> failed (provider error)
       |          +-----------------> blocked (egress check failed)
       +--> rejected | expired
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from appliance.accounts.models import Team
from appliance.jobs.models import Job


class PolicyVersion(models.Model):
    """One version of the policy document. Versions are never changed: an
    edit publishes the next version."""

    class Source(models.TextChoices):
        SEED = "seed"
        EDIT = "edit"

    version = models.PositiveIntegerField(unique=True)
    document = models.JSONField()
    source = models.CharField(max_length=8, choices=Source.choices)
    comment = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        permissions = [
            ("manage_escalation_policy", "Can publish escalation policy versions"),
        ]

    def __str__(self) -> str:
        return f"escalation policy v{self.version}"


class State(models.TextChoices):
    DENIED = "denied"
    PENDING = "pending"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"
    EXPIRED = "expired"
    BLOCKED = "blocked"
    FAILED = "failed"


class BlockReason(models.TextChoices):
    """Why the egress module did not send, or why sending failed. Stable."""

    NOT_APPROVED = "not_approved"
    EXPIRED = "expired"
    BODY_CHANGED = "body_changed"
    PAYLOAD_BLOCKED = "payload_blocked"
    BUDGET_EXCEEDED = "budget_exceeded"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    HOST_NOT_ALLOWED = "host_not_allowed"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PROVIDER_REJECTED = "provider_rejected"
    PROVIDER_OUTPUT_INVALID = "provider_output_invalid"


class EscalationRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="escalations")
    workload = models.CharField(max_length=32)
    classification = models.CharField(max_length=16)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escalations"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    # The vault scope the body's tokens come from; the answer is re-identified
    # in it for the requester when they own it.
    scope_id = models.CharField(max_length=80)

    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=128)
    body_sealed = models.BinaryField()
    body_sha256 = models.CharField(max_length=64)
    body_bytes = models.PositiveIntegerField()
    estimated_prompt_tokens = models.PositiveIntegerField()
    estimated_completion_tokens = models.PositiveIntegerField()
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=6)

    policy_version = models.PositiveIntegerField()
    # The policy's decision: every check with its outcome. Messages name
    # classifications, roles, teams and amounts, never content.
    evaluation = models.JSONField()
    approvals_required = models.PositiveSmallIntegerField()

    state = models.CharField(max_length=16, choices=State.choices)
    reason = models.CharField(max_length=32, choices=BlockReason.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    # The provider's answer as it arrived: pseudonymized, sealed.
    answer_sealed = models.BinaryField(null=True, blank=True)
    answer_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "state", "created_at"])]
        permissions = [
            ("request_escalation", "Can ask for an escalation of their results"),
            ("approve_escalation", "Can approve or reject others' escalations"),
            ("export_distillation", "Can export the distillation dataset"),
        ]

    def __str__(self) -> str:
        return f"escalation {self.id} ({self.state})"


class Approval(models.Model):
    """One approver's decision on one request, for the bytes they saw."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    request = models.ForeignKey(
        EscalationRequest, on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    # The SHA-256 of the body the approver was shown and approved.
    body_sha256 = models.CharField(max_length=64)
    reason_sealed = models.BinaryField()
    second_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "approver"], name="one_decision_per_approver"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} of {self.request_id} by {self.approver_id}"
