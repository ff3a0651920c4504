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
