"""Issuing and resolving pseudonym tokens such as ``<PERSON_1>``.

A scope (a job, a conversation, a batch) has its own random 256-bit key,
stored sealed with the data key. Two keys are derived from it with HKDF-
SHA256: one for the HMAC that looks a value up, one for the AES-GCM that
stores it. Destroying the scope key makes every value in the scope
unreadable and its lookups unlinkable to any other scope (crypto-shredding).

Tokens are numbered per entity type within a scope, and the same value
always gets the same token there: values are compared in a canonical form
per type (digits only for numbers, no case or spacing for names and
addresses). Concurrent workers serialize on the scope row (SELECT ... FOR
UPDATE) while they issue new numbers, so two workers redacting the same
scope at once agree on every token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

import regex
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from appliance import crypto
from appliance.privacy import tokens
from appliance.privacy.models import VaultEntry, VaultScope
from appliance.privacy.normalization import normalize as normalize_text

# Entity types whose values are numbers: compared by their digits alone, so
# "536-22-8190" and "536 22 8190" are one value.
_NUMERIC = {
    "US_SSN",
    "US_ITIN",
    "CREDIT_CARD",
    "PHONE_NUMBER",
    "ACCOUNT_NUMBER",
    "ABA_ROUTING_NUMBER",
    "UK_NHS",
}
# Entity types compared by letters and digits alone, in capitals.
_CODES = {"IBAN_CODE", "UK_NINO", "EMPLOYEE_ID", "US_PASSPORT"}
_SEPARATORS = regex.compile(r"[^\p{L}\p{N}]+")


class ScopeDestroyed(Exception):
    """The scope's key was destroyed; its values can no longer be read."""


def normalize(value: str, entity_type: str = "") -> str:
    """Return the canonical form of ``value``, which decides whether two
    mentions are the same value: normalized as for analysis, then folded
    per type."""
    folded = normalize_text(value).text.casefold()
    if entity_type in _NUMERIC:
        digits = "".join(char for char in folded if char.isdigit())
        if entity_type == "PHONE_NUMBER" and len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        return digits or folded
    if entity_type in _CODES:
        return _SEPARATORS.sub("", folded).upper()
    folded = regex.sub(r"['\u2019]s$", "", folded.strip())
    return " ".join(_SEPARATORS.sub(" ", folded).split()) or folded


def _scope_aad(scope_id: str) -> bytes:
    return f"vault-scope:{scope_id}".encode()


def open_scope(scope_id: str, owner_id: int | None) -> VaultScope:
    """Return the scope, creating it with a fresh key on first use."""
    key_sealed = crypto.seal(os.urandom(32), aad=_scope_aad(scope_id))
    scope, _ = VaultScope.objects.get_or_create(
        id=scope_id, defaults={"owner_id": owner_id, "key_sealed": key_sealed}
    )
    return scope


def _scope_keys(scope: VaultScope) -> tuple[bytes, bytes]:
    """Derive the scope's lookup (HMAC) key and value (AES-GCM) key."""
    if scope.key_sealed is None or scope.destroyed_at is not None:
        raise ScopeDestroyed(scope.id)
    root = crypto.unseal(bytes(scope.key_sealed), aad=_scope_aad(scope.id))
    derived = []
    for purpose in (b"appliance vault lookup", b"appliance vault value"):
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
        derived.append(hkdf.derive(root))
    return derived[0], derived[1]


def _lookup(key: bytes, entity_type: str, value: str) -> str:
    message = f"{entity_type}\x00{normalize(value, entity_type)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _next_numbers(scope: VaultScope) -> dict[str, int]:
    return {
        row["entity_type"]: row["top"]
        for row in VaultEntry.objects.filter(scope=scope)
        .values("entity_type")
        .annotate(top=Max("number"))
    }


def tokens_for(
    scope_id: str, owner_id: int | None, items: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Map each ``(entity_type, value)`` to its token in the scope, issuing
    new numbers for values the scope has not seen."""
    items = list(dict.fromkeys(items))
    if not items:
        return {}
    for entity_type, _ in items:
        tokens.issued_token(entity_type, 1)  # ValueError for an unusable type
    open_scope(scope_id, owner_id)
    with transaction.atomic():
        scope = VaultScope.objects.select_for_update().get(id=scope_id)
        lookup_key, value_key = _scope_keys(scope)
        lookups = {item: _lookup(lookup_key, *item) for item in items}
        existing = {
            entry.lookup: entry.token
            for entry in VaultEntry.objects.filter(
                scope=scope, lookup__in=lookups.values()
            )
        }
        top = _next_numbers(scope)
        issued: dict[tuple[str, str], str] = {}
        for (entity_type, value), lookup in lookups.items():
            if lookup not in existing:
                number = top.get(entity_type, 0) + 1
                top[entity_type] = number
                token = tokens.issued_token(entity_type, number)
                if tokens.is_reserved(token):  # the reserved form is never issued
                    raise ValueError(f"{token} is a reserved placeholder")
                nonce = os.urandom(12)
                sealed = nonce + AESGCM(value_key).encrypt(
                    nonce, value.encode(), lookup.encode()
                )
                VaultEntry.objects.create(
                    scope=scope,
                    entity_type=entity_type,
                    number=number,
                    lookup=lookup,
                    value_sealed=sealed,
                )
                existing[lookup] = token
            issued[(entity_type, value)] = existing[lookup]
    return issued


def values_for(scope: VaultScope) -> dict[str, str]:
    """Map every token issued in the scope to its original value."""
    _, value_key = _scope_keys(scope)
    values = {}
    for entry in VaultEntry.objects.filter(scope=scope):
        blob = bytes(entry.value_sealed)
        plain = AESGCM(value_key).decrypt(blob[:12], blob[12:], entry.lookup.encode())
        values[entry.token] = plain.decode()
    return values


def destroy_scope(scope_id: str) -> None:
    """Crypto-shred the scope: its key is deleted, its values become noise."""
    VaultScope.objects.filter(id=scope_id).update(
        key_sealed=None, destroyed_at=timezone.now()
    )
