"""State the API keeps about requests: rate-limit windows per API key and the
stored responses behind idempotency keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from appliance.accounts.models import ApiKey


class RateWindow(models.Model):
    """Requests counted for one API key in one fixed one-minute window."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="api_ratewindow_key_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_id} {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class IdempotencyRecord(models.Model):
    """A POST made with an ``Idempotency-Key`` header and, once it finished,
    its response. The response body is sealed (AES-256-GCM): it may hold a
    job's result."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # SHA-256 of the request's content: its JSON fields, or its form fields
    # and uploaded files.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    response_sealed = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="api_idempotency_user_key"
            )
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
