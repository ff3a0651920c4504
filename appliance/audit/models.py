"""The audit log: one append-only row per action the appliance takes.

The database rejects UPDATE and DELETE on this table (a trigger installed by
migration 0002), so an event can be added but never changed through the
application or a stray query.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, and how it ended.

    ``details`` holds ids, counts, versions and timings only: never text a
    person submitted, names, prompts or keys.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        permissions = [("view_audit_log", "Can read and verify the audit log")]

    def __str__(self) -> str:
        return f"#{self.id} {self.action} {self.outcome}"
