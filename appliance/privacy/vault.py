"""Issuing and resolving pseudonym tokens such as ``<PERSON_1>``.

Tokens are numbered per entity type within a scope, and the same normalized
value always gets the same token there. Concurrent workers serialize on the
scope row (SELECT ... FOR UPDATE) while they issue new numbers, so two
workers redacting the same scope at once agree on every token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from appliance import crypto
from appliance.privacy.models import VaultEntry, VaultScope


class ScopeDestroyed(Exception):
    """The scope's key was destroyed; its values can no longer be read."""


def normalize(value: str) -> str:
    """Fold forms that name the same thing: Unicode compatibility forms, case
    and runs of white space."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return " ".join(folded.split())


def _scope_aad(scope_id: str) -> bytes:
    return f"vault-scope:{scope_id}".encode()


def open_scope(scope_id: str, owner_id: int | None) -> VaultScope:
    """Return the scope, creating it with a fresh key on first use."""
    key_sealed = crypto.seal(os.urandom(32), aad=_scope_aad(scope_id))
    scope, _ = VaultScope.objects.get_or_create(
        id=scope_id, defaults={"owner_id": owner_id, "key_sealed": key_sealed}
    )
    return scope


def _scope_key(scope: VaultScope) -> bytes:
    if scope.key_sealed is None or scope.destroyed_at is not None:
        raise ScopeDestroyed(scope.id)
    return crypto.unseal(bytes(scope.key_sealed), aad=_scope_aad(scope.id))


def _lookup(key: bytes, entity_type: str, value: str) -> str:
    message = f"{entity_type}\x00{normalize(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def tokens_for(
    scope_id: str, owner_id: int | None, items: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Map each ``(entity_type, value)`` to its token in the scope."""
    items = list(dict.fromkeys(items))
    if not items:
        return {}
    open_scope(scope_id, owner_id)
    with transaction.atomic():
        scope = VaultScope.objects.select_for_update().get(id=scope_id)
        key = _scope_key(scope)
        lookups = {item: _lookup(key, *item) for item in items}
        existing = {
            entry.lookup: entry.token
            for entry in VaultEntry.objects.filter(
                scope=scope, lookup__in=lookups.values()
            )
        }
        next_number = {
            row["entity_type"]: row["top"]
            for row in VaultEntry.objects.filter(scope=scope)
            .values("entity_type")
            .annotate(top=Max("number"))
        }
        tokens: dict[tuple[str, str], str] = {}
        for (entity_type, value), lookup in lookups.items():
            if lookup not in existing:
                number = next_number.get(entity_type, 0) + 1
                next_number[entity_type] = number
                nonce = os.urandom(12)
                sealed = nonce + AESGCM(key).encrypt(
                    nonce, value.encode(), lookup.encode()
                )
                entry = VaultEntry.objects.create(
                    scope=scope,
                    entity_type=entity_type,
                    number=number,
                    lookup=lookup,
                    value_sealed=sealed,
                )
                existing[lookup] = entry.token
            tokens[(entity_type, value)] = existing[lookup]
    return tokens


def values_for(scope: VaultScope) -> dict[str, str]:
    """Map every token issued in the scope to its original value."""
    key = _scope_key(scope)
    values = {}
    for entry in VaultEntry.objects.filter(scope=scope):
        blob = bytes(entry.value_sealed)
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], entry.lookup.encode())
        values[entry.token] = plain.decode()
    return values


def destroy_scope(scope_id: str) -> None:
    """Crypto-shred the scope: its key is deleted, its values become noise."""
    VaultScope.objects.filter(id=scope_id).update(
        key_sealed=None, destroyed_at=timezone.now()
    )
