"""The byte encodings that the audit log hashes and authenticates.

Every field is written at a fixed width or behind a length prefix, so no
value, whatever characters it holds, can run into the next field or pose as
another one. docs/audit.md specifies the same layouts for verifiers written
apart from this code.

Leaf (the bytes a Merkle leaf hashes), all integers big-endian::

    u8   format version (1)
    16   log id (UUID bytes)
    u64  sequence number
    16   event id (UUID bytes)
    i64  occurred at, microseconds since 1970-01-01T00:00:00Z
    i64  sequenced at, the same unit
    u8   1 if an actor follows, else 0;  then i64 actor id when present
    6 x  (u16 length, UTF-8): action, object type, object id, outcome,
         request id, key scope
    u32  key version
    u32  ciphertext length, then the ciphertext (nonce, ciphertext, tag)

Associated data of the AES-GCM encryption: the tag ``audit-event-aad``, a
zero byte, then the leaf layout without the sequence number, the sequencing
time and the ciphertext. It is known when the event is written, and binds the
ciphertext to its log, its event id, its key version and every clear field.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FORMAT_VERSION = 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AAD_TAG = b"audit-event-aad\x00"
KEY_AAD_TAG = b"audit-data-key\x00"
MAX_TEXT_BYTES = 0xFFFF

_HEAD = struct.Struct(">B16sQ16sqq")
_AAD_HEAD = struct.Struct(">B16s16sq")
_ACTOR = struct.Struct(">Bq")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_NO_ACTOR = b"\x00"


def to_micros(moment: datetime) -> int:
    """Exact microseconds since the Unix epoch (no float rounding)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True, slots=True)
class Entry:
    """One sequenced entry, as the leaf encodes it."""

    log_id: bytes
    seq: int
    event_id: bytes
    occurred_us: int
    sequenced_us: int
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    outcome: str
    request_id: str
    key_scope: str
    key_version: int
    ciphertext: bytes

    def leaf(self) -> bytes:
        return encode_leaf(self)


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        raise ValueError(f"a field of {len(data)} bytes exceeds {MAX_TEXT_BYTES}")
    return _U16.pack(len(data)) + data


def _actor(actor_id: int | None) -> bytes:
    return _NO_ACTOR if actor_id is None else _ACTOR.pack(1, actor_id)


def _fields(
    actor_id: int | None,
    texts: tuple[str, str, str, str, str, str],
    key_version: int,
) -> bytes:
    return b"".join(
        (_actor(actor_id), *(_text(text) for text in texts), _U32.pack(key_version))
    )


def encode_leaf(entry: Entry) -> bytes:
    return encode_leaf_fields(
        entry.log_id,
        entry.seq,
        entry.event_id,
        entry.occurred_us,
        entry.sequenced_us,
        entry.actor_id,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.outcome,
        entry.request_id,
        entry.key_scope,
        entry.key_version,
        entry.ciphertext,
    )


def encode_leaf_fields(
    log_id: bytes,
    seq: int,
    event_id: bytes,
    occurred_us: int,
    sequenced_us: int,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    request_id: str,
    key_scope: str,
    key_version: int,
    ciphertext: bytes,
) -> bytes:
    """The leaf bytes from loose fields, in the order of a database row (the
    verifier encodes a million of these, so no Entry is built)."""
    texts = (action, object_type, object_id, outcome, request_id, key_scope)
    return b"".join(
        (
            _HEAD.pack(
                FORMAT_VERSION, log_id, seq, event_id, occurred_us, sequenced_us
            ),
            _fields(actor_id, texts, key_version),
            _U32.pack(len(ciphertext)),
            ciphertext,
        )
    )


def encode_aad(
    *,
    log_id: bytes,
    event_id: bytes,
    occurred_us: int,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    request_id: str,
    key_scope: str,
    key_version: int,
) -> bytes:
    head = _AAD_HEAD.pack(FORMAT_VERSION, log_id, event_id, occurred_us)
    texts = (action, object_type, object_id, outcome, request_id, key_scope)
    return AAD_TAG + head + _fields(actor_id, texts, key_version)


def entry_aad(entry: Entry) -> bytes:
    return encode_aad(
        log_id=entry.log_id,
        event_id=entry.event_id,
        occurred_us=entry.occurred_us,
        actor_id=entry.actor_id,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        outcome=entry.outcome,
        request_id=entry.request_id,
        key_scope=entry.key_scope,
        key_version=entry.key_version,
    )


def encode_key_aad(log_id: bytes, scope: str, version: int) -> bytes:
    """Associated data for wrapping a data key under the key-encryption key."""
    return KEY_AAD_TAG + log_id + _text(scope) + _U32.pack(version)
