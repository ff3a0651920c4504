"""Data keys: AES-256-GCM keys that encrypt the audit events' sensitive
fields, one per scope and version, stored wrapped by the key-encryption key.

A scope is a calendar month (``2026-12``) or, with APPLIANCE_AUDIT_SUBJECT_KEYS,
a month and one actor (``2026-12/actor-42``), so that one person's entries can
be crypto-shredded alone.

Nonces are random (96 bits). NIST SP 800-38D caps one key at 2**32 random-
nonce encryptions; APPLIANCE_AUDIT_KEY_MAX_USES (2**24 by default) retires a
key far below that. Each process reserves uses in blocks of ``RESERVE_BLOCK``
in the key's row, so the count is an upper bound across every process without
a lock per event. Key rows are read and changed on the ``audit`` connection in
transactions of their own, so an action that rolls back takes no reservation
with it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Max
from django.utils import timezone

from appliance.audit.canonical import encode_key_aad
from appliance.audit.kek import key_encryption_key
from appliance.audit.models import DataKey, SequencerState

logger = logging.getLogger(__name__)

AUDIT_DATABASE = "audit"
RESERVE_BLOCK = 256
NONCE_SIZE = 12
# How long a process keeps using a reserved block, and a decryption key, before
# it looks at the key's row again (so a rotation or a shred takes effect).
LEASE_SECONDS = 30.0
CACHE_SECONDS = 60.0


class KeyDestroyed(Exception):
    """The data key was crypto-shredded: its entries cannot be decrypted."""


class KeyMissing(Exception):
    """No data key with this scope and version exists."""


@dataclass
class Lease:
    """A block of reserved encryptions under one data key."""

    scope: str
    version: int
    cipher: AESGCM
    remaining: int
    expires: float


_lock = threading.Lock()
_leases: dict[str, Lease] = {}
_ciphers: dict[tuple[str, int], tuple[AESGCM, float]] = {}
_log_id: bytes | None = None


def log_id() -> bytes:
    """Return this installation's log id (16 bytes), creating it if needed."""
    global _log_id
    if _log_id is None:
        state, _ = SequencerState.objects.using(AUDIT_DATABASE).get_or_create(id=1)
        _log_id = state.log_id.bytes
    return _log_id


def reset_caches() -> None:
    """Forget cached keys, leases and the log id (tests, after a shred)."""
    global _log_id
    with _lock:
        _leases.clear()
        _ciphers.clear()
        _log_id = None


def scope_for(occurred_at: datetime, actor_id: int | None) -> str:
    period = occurred_at.astimezone(UTC).strftime("%Y-%m")
    if settings.AUDIT_SUBJECT_KEYS and actor_id is not None:
        return f"{period}/actor-{actor_id}"
    return period


@dataclass(frozen=True)
class Sealed:
    version: int
    ciphertext: bytes


def encrypt(
    scope: str, plaintext: bytes, aad_for_version: Callable[[int], bytes]
) -> Sealed:
    """Encrypt under the current key of ``scope``; ``aad_for_version`` builds
    the associated data once the key version is known."""
    lease = _take(scope)
    nonce = os.urandom(NONCE_SIZE)
    aad = aad_for_version(lease.version)
    return Sealed(lease.version, nonce + lease.cipher.encrypt(nonce, plaintext, aad))


def decrypt(scope: str, version: int, ciphertext: bytes, aad: bytes) -> bytes:
    """Decrypt one entry's fields; raises InvalidTag when anything the
    associated data binds was changed, KeyDestroyed after a shred."""
    cipher = _cipher(scope, version)
    return cipher.decrypt(ciphertext[:NONCE_SIZE], ciphertext[NONCE_SIZE:], aad)


@dataclass
class _Reservation:
    lease: Lease
    events: list[tuple[str, DataKey]] = field(default_factory=list)


def _take(scope: str) -> Lease:
    reservation = None
    with _lock:
        lease = _leases.get(scope)
        if lease is None or lease.remaining <= 0 or lease.expires < time.monotonic():
            reservation = _reserve(scope)
            lease = reservation.lease
            _leases[scope] = lease
        lease.remaining -= 1
    # Recorded once the lock is released and the lease is in place: recording
    # encrypts too, and may need this very scope.
    for action, key in reservation.events if reservation else ():
        _record_key_event(action, key)
    return lease


def _reserve(scope: str) -> _Reservation:
    """Reserve a block of uses under the scope's current key, rotating to a
    new version when the block would pass the limit."""
    events: list[tuple[str, DataKey]] = []
    with transaction.atomic(using=AUDIT_DATABASE):
        _lock_scope(scope)
        keys = DataKey.objects.using(AUDIT_DATABASE).filter(scope=scope)
        key = keys.filter(retired_at=None).order_by("-version").first()
        if key is not None and key.uses + RESERVE_BLOCK > settings.AUDIT_KEY_MAX_USES:
            key.retired_at = timezone.now()
            key.save(update_fields=["retired_at"])
            events.append(("audit.key_retired", key))
            key = None
        if key is None:
            key = _create(scope)
            events.append(("audit.key_created", key))
        keys.filter(pk=key.pk).update(uses=F("uses") + RESERVE_BLOCK)
    lease = Lease(
        scope,
        key.version,
        AESGCM(_unwrap(key)),
        RESERVE_BLOCK,
        time.monotonic() + LEASE_SECONDS,
    )
    return _Reservation(lease, events)


def _lock_scope(scope: str) -> None:
    # Serializes key creation and reservation per scope (not per event).
    with connections[AUDIT_DATABASE].cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"audit-data-key:{scope}"],
        )


def _create(scope: str) -> DataKey:
    keys = DataKey.objects.using(AUDIT_DATABASE).filter(scope=scope)
    version = (keys.aggregate(latest=Max("version"))["latest"] or 0) + 1
    material = AESGCM.generate_key(bit_length=256)
    kek = key_encryption_key()
    kek_id, wrapped = kek.wrap(material, encode_key_aad(log_id(), scope, version))
    key = DataKey.objects.using(AUDIT_DATABASE).create(
        scope=scope, version=version, kek_id=kek_id, wrapped=wrapped
    )
    logger.info("audit data key %s v%d created", scope, version)
    return key


def _unwrap(key: DataKey) -> bytes:
    if key.wrapped is None:
        raise KeyDestroyed(f"data key {key.scope} v{key.version} was destroyed")
    aad = encode_key_aad(log_id(), key.scope, key.version)
    return key_encryption_key().unwrap(key.kek_id, bytes(key.wrapped), aad)


def _cipher(scope: str, version: int) -> AESGCM:
    now = time.monotonic()
    with _lock:
        cached = _ciphers.get((scope, version))
        if cached is not None and cached[1] > now:
            return cached[0]
    key = (
        DataKey.objects.using(AUDIT_DATABASE)
        .filter(scope=scope, version=version)
        .first()
    )
    if key is None:
        raise KeyMissing(f"no data key {scope} v{version}")
    cipher = AESGCM(_unwrap(key))
    with _lock:
        _ciphers[(scope, version)] = (cipher, now + CACHE_SECONDS)
    return cipher


def _record_key_event(action: str, key: DataKey) -> None:
    # Imported here: services imports this module to encrypt events.
    from appliance.audit.services import record

    record(
        action,
        object_type="audit_data_key",
        object_id=f"{key.scope}/v{key.version}",
        details={"kek_id": key.kek_id, "uses": key.uses},
        durable=True,
    )
