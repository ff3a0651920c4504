"""The pseudonym vault.

A scope (a job, a conversation, a batch) has its own random 256-bit key,
stored sealed with the data key. Within the scope, a value's token is looked
up by an HMAC of the normalized value under the scope key, and the value is
stored encrypted under the same key. Destroying the scope key makes every
value in the scope unreadable and the lookups unlinkable (crypto-shredding).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class VaultScope(models.Model):
    id = models.CharField(primary_key=True, max_length=80)
    # User allowed to see re-identified text from this scope.
    owner_id = models.BigIntegerField(null=True, blank=True)
    key_sealed = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.id


class VaultEntry(models.Model):
    scope = models.ForeignKey(
        VaultScope, on_delete=models.CASCADE, related_name="entries"
    )
    entity_type = models.CharField(max_length=40)
    number = models.PositiveIntegerField()
    lookup = models.CharField(max_length=64)
    value_sealed = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "lookup"], name="vault_lookup_unique"
            ),
            models.UniqueConstraint(
                fields=["scope", "entity_type", "number"], name="vault_token_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_id} {self.token}"

    @property
    def token(self) -> str:
        return f"<{self.entity_type}_{self.number}>"


class RecognizerOverride(models.Model):
    """An administrator's change to a recognizer of recognizers.yaml, or a
    new pattern recognizer (one whose name the file does not define)."""

    name = models.CharField(
        max_length=80,
        unique=True,
        help_text="Name of a recognizer in recognizers.yaml, or a new name.",
    )
    enabled = models.BooleanField(
        null=True,
        blank=True,
        help_text="On or off; empty keeps what the file says.",
    )
    entity = models.CharField(
        max_length=40,
        blank=True,
        help_text="Entity type for a new recognizer, such as EMPLOYEE_ID.",
    )
    countries = models.JSONField(
        default=list,
        blank=True,
        help_text='Country codes where it applies, such as ["us"]; empty keeps '
        "the file's.",
    )
    patterns = models.JSONField(
        default=list,
        blank=True,
        help_text='Patterns added to the file\'s: [{"name": ..., "regex": ..., '
        '"score": 0.9}].',
    )
    context = models.JSONField(
        default=list,
        blank=True,
        help_text="Context words added to the file's.",
    )
    terms = models.JSONField(
        default=list,
        blank=True,
        help_text="Terms added to the file's (health conditions).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class RegistryTerm(models.Model):
    """An allow-list or deny-list entry added by an administrator."""

    class List(models.TextChoices):
        ALLOW = "allow", "allow-list: never redacted"
        DENY = "deny", "deny-list: always redacted"

    list = models.CharField(max_length=5, choices=List.choices)
    value = models.CharField(max_length=200)
    entity = models.CharField(
        max_length=40,
        blank=True,
        help_text="Entity type for a deny-list term; empty means CODE_NAME.",
    )
    is_pattern = models.BooleanField(
        default=False, help_text="Allow-list only: the value is a regex."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["list", "value", "entity"], name="registry_term_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.list}: {self.value}"
