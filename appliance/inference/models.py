"""One row per call to an inference engine, for usage and cost figures."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ModelCall(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok"
        UNAVAILABLE = "unavailable"
        REJECTED = "rejected"
        INVALID_OUTPUT = "invalid_output"
        BLOCKED = "blocked"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    workload = models.CharField(max_length=32)
    # The job, conversation or batch the call served.
    subject_id = models.CharField(max_length=64, blank=True, db_index=True)
    engine = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)
    model = models.CharField(max_length=128)
    model_version = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    attempts = models.PositiveSmallIntegerField(default=1)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    # Mean log-probability of the generated tokens, when the engine reported
    # log-probabilities; a rough signal of how sure the model was overall.
    mean_logprob = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.workload} {self.engine}/{self.model} {self.outcome}"
