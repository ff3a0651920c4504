"""Users, teams and API keys.

Roles (staff, hr_admin, reviewer, approver, auditor, admin) are Django groups
with permissions; see ``roles.py``. Teams are departments, separate from
roles: budgets, policy audiences and usage are counted per team.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class Team(models.Model):
    """A department: the unit for budgets, policy audiences and usage."""

    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person, or a service account for an enterprise system."""

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    is_service_account = models.BooleanField(
        default=False,
        help_text="An account for an enterprise system that signs in with API "
        "keys only.",
    )

    def has_role(self, role: str) -> bool:
        return self.groups.filter(name=role).exists()

    def role_names(self) -> list[str]:
        return sorted(self.groups.values_list("name", flat=True))


class Scope(models.TextChoices):
    """What an API key may call. A key carries one or more scopes; an endpoint
    that no scope covers is closed to every key (see ``api/scopes.py``)."""

    COMPLIANCE = "compliance", "Compliance checks and reviews"
    ANNOTATION = "annotation", "File annotation"
    HR = "hr", "HR questions"
    ESCALATION = "escalation", "Escalation requests"
    JOBS = "jobs", "Read jobs and their results"
    CHAT = "chat", "OpenAI-compatible chat and embeddings"
    WEBHOOKS = "webhooks", "Manage webhooks"


def all_scopes() -> list[str]:
    return [scope.value for scope in Scope]


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """An API key. Only a SHA-256 digest of the secret part is stored: the key
    is shown once, when it is created, and cannot be recovered afterwards.

    The key reads ``apk_<prefix>_<secret>``; the prefix finds the row, the
    digest of the secret is compared in constant time.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    scopes = ArrayField(
        models.CharField(max_length=20, choices=Scope.choices),
        default=all_scopes,
        help_text="What the key may call.",
    )
    # Requests per minute; None takes APPLIANCE_API_KEY_RATE_LIMIT.
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests per minute. Empty: the appliance's default.",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (apk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
