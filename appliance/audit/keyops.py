"""Operations on the audit log's data keys: rotation, rewrapping under a new
key-encryption key, and crypto-shredding. Each one is recorded in the log.

Running processes keep a reserved block of encryptions (and decryption keys)
for up to ``datakeys.LEASE_SECONDS`` and ``datakeys.CACHE_SECONDS``, so a
rotation or a shred reaches them within that time, not at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appliance.audit import datakeys
from appliance.audit.canonical import encode_key_aad
from appliance.audit.kek import key_encryption_key
from appliance.audit.models import DataKey
from appliance.audit.services import Actor, record

logger = logging.getLogger(__name__)

AUDIT_DATABASE = datakeys.AUDIT_DATABASE


class KeyOperationError(Exception):
    """A key operation was refused; the message says why."""


def rotate(scope: str | None = None, *, actor: Actor | None = None) -> int:
    """Retire the current key of ``scope`` (or of every scope), so the next
    event of that scope creates the next version; return the count."""
    keys = DataKey.objects.using(AUDIT_DATABASE).filter(retired_at=None)
    if scope is not None:
        keys = keys.filter(scope=scope)
    count = keys.update(retired_at=timezone.now())
    datakeys.reset_caches()
    record(
        "audit.keys_rotated",
        actor=actor,
        object_type="audit_data_key",
        object_id=scope or "*",
        details={"retired": count},
        durable=True,
    )
    logger.info("audit data keys rotated: %d retired", count)
    return count


def rewrap(*, actor: Actor | None = None) -> int:
    """Wrap every live data key under the current key-encryption key; return
    how many changed. Entries are not touched."""
    kek = key_encryption_key()
    log_id = datakeys.log_id()
    moved = 0
    keys = DataKey.objects.using(AUDIT_DATABASE).exclude(wrapped=None)
    for key_id in keys.values_list("pk", flat=True):
        with transaction.atomic(using=AUDIT_DATABASE):
            key = keys.select_for_update().filter(pk=key_id).first()
            if key is None or key.wrapped is None:
                continue
            # Vault's ids carry the transit key version, so they never equal
            # the current id: transit moves each to its newest version.
            if key.kek_id == kek.current_id():
                continue
            aad = encode_key_aad(log_id, key.scope, key.version)
            key.kek_id, key.wrapped = kek.rewrap(key.kek_id, bytes(key.wrapped), aad)
            key.save(update_fields=["kek_id", "wrapped"])
            moved += 1
    record(
        "audit.keys_rewrapped",
        actor=actor,
        object_type="audit_data_key",
        details={"rewrapped": moved, "kek_id": kek.current_id()},
        durable=True,
    )
    logger.info("audit data keys rewrapped: %d", moved)
    return moved


@dataclass(frozen=True)
class Shredded:
    keys: int
    scopes: list[str]


def shred(
    *,
    scope: str | None = None,
    actor_id: int | None = None,
    force: bool = False,
    by: Actor | None = None,
) -> Shredded:
    """Destroy the data keys of a month (``scope``) or of one actor's scopes.

    Their entries stay in the log and the tree still verifies, but their
    encrypted fields can never be read again. The current month's shared key
    is refused without ``force``: events written in the next
    ``datakeys.LEASE_SECONDS`` could still use it and be lost to readers.
    """
    if (scope is None) == (actor_id is None):
        raise KeyOperationError("name either a scope or an actor, not both")
    keys = DataKey.objects.using(AUDIT_DATABASE).filter(destroyed_at=None)
    if scope is not None:
        keys = keys.filter(scope=scope)
        current = datakeys.scope_for(timezone.now(), None)
        if scope == current and not force:
            raise KeyOperationError(
                f"{scope} is the current month's key; retire it with 'audit "
                "rotate-key' first, or pass --force"
            )
    else:
        keys = keys.filter(Q(scope__endswith=f"/actor-{actor_id}"))
    now = timezone.now()
    scopes = sorted(set(keys.values_list("scope", flat=True)))
    count = keys.update(wrapped=None, destroyed_at=now, retired_at=now)
    datakeys.reset_caches()
    record(
        "audit.keys_destroyed",
        actor=by,
        object_type="audit_data_key",
        object_id=scope or f"actor-{actor_id}",
        details={"destroyed": count, "scopes": len(scopes)},
        durable=True,
    )
    logger.info("audit data keys destroyed: %d", count)
    return Shredded(count, scopes)
