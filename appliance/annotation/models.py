"""Batches of annotation jobs.

A batch groups the jobs of one upload (a zip, or several files in one
request). It stores no counters: progress is counted from its jobs' states
when it is read, so it stays right whatever finishes a job (a worker, the
sweeper failing it after too many deliveries, a retry). File names can be
personal, so each item keeps its file name sealed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import timezone

from appliance.accounts.models import ApiKey, User
from appliance.jobs.models import Job


class BatchQuerySet(models.QuerySet["Batch"]):
    def visible_to(
        self, user: User | AnonymousUser, api_key: ApiKey | None = None
    ) -> BatchQuerySet:
        """Batches ``user`` submitted; a service account sees only those
        submitted with the same API key, as for jobs."""
        if not user.is_authenticated:
            return self.none()
        if user.is_service_account:
            if api_key is None:
                return self.none()
            return self.filter(owner=user, api_key=api_key)
        return self.filter(owner=user)


class Batch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="annotation_batches",
    )
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotation_batches",
    )
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"batch {self.id} ({self.total} files)"


class BatchItem(models.Model):
    """One file of a batch and the job that annotates it."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    job = models.OneToOneField(
        Job, on_delete=models.PROTECT, related_name="annotation_item"
    )
    position = models.PositiveIntegerField()
    filename_sealed = models.BinaryField()

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "position"], name="annotation_item_position"
            )
        ]

    def __str__(self) -> str:
        return f"item {self.position} of batch {self.batch_id}"
