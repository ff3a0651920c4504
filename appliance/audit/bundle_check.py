"""The appliance's own check of an evidence bundle (``manage.py audit verify
--bundle``). tools/verify_audit_bundle.py is the independent one for
auditors; both reject a bundle on the first failed check of any element."""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.audit.bundle import ENTRY_FIELDS, FORMAT, canonical_json
from appliance.audit.canonical import encode_leaf_fields
from appliance.audit.merkle import (
    HASH_SIZE,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from appliance.audit.signing import Note, parse_note, public_key_id, verify

_HASH = re.compile(f"[0-9a-f]{{{2 * HASH_SIZE}}}")
_EVENT_ID = re.compile(r"[0-9a-f]{32}")
_INTEGERS = ("seq", "occurred_us", "sequenced_us", "key_version")
_TEXTS = ("action", "object_type", "object_id", "outcome", "request_id", "key_scope")
TOP_KEYS = {"format", "log_id", "entries", "checkpoints", "consistency", "public_keys"}


class BundleInvalid(Exception):
    """The bundle failed a check; ``seq`` is the first bad entry, if any."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


@dataclass
class BundleSummary:
    log_id: uuid.UUID
    tree_size: int
    first_seq: int | None
    entries: int
    key_ids: list[str] = field(default_factory=list)


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise BundleInvalid(f"{what} is not a list of hashes")
    out = []
    for value in values:
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            raise BundleInvalid(f"{what} holds an element that is not a hash")
        out.append(bytes.fromhex(value))
    return out


def _base64(value: Any) -> bytes:
    """Decode base64 written the one canonical way (no spare bits set)."""
    if not isinstance(value, str):
        raise BundleInvalid("a base64 field is not a string")
    decoded = base64.b64decode(value, validate=True)
    if base64.b64encode(decoded).decode() != value:
        raise BundleInvalid("a base64 field is not in canonical form")
    return decoded


def _keys(
    document: dict[str, Any], pinned: dict[str, Ed25519PublicKey] | None
) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for key_id, encoded in document["public_keys"].items():
        key = Ed25519PublicKey.from_public_bytes(_base64(encoded))
        if public_key_id(key) != key_id:
            raise BundleInvalid(f"public key {key_id} does not have that key id")
        if pinned is not None and key_id in pinned and pinned[key_id] != key:
            raise BundleInvalid(f"public key {key_id} differs from the pinned one")
        keys[key_id] = key
    return pinned if pinned is not None else keys


def _checkpoints(
    document: dict[str, Any], log_id: uuid.UUID, keys: dict[str, Ed25519PublicKey]
) -> list[Note]:
    notes: list[Note] = []
    for item in document["checkpoints"]:
        if set(item) != {"note", "signature"}:
            raise BundleInvalid("a checkpoint has unexpected fields")
        note = parse_note(item["note"])
        key = keys.get(note.key_id)
        signature = _base64(item["signature"])
        if key is None or not verify(item["note"], signature, key):
            raise BundleInvalid(f"checkpoint {note.size} is not validly signed")
        if note.log_id != log_id:
            raise BundleInvalid(f"checkpoint {note.size} is for another log")
        if notes and (
            note.size <= notes[-1].size or note.signed_at < notes[-1].signed_at
        ):
            raise BundleInvalid(f"checkpoint {note.size} is out of order")
        notes.append(note)
    if not notes:
        raise BundleInvalid("the bundle holds no checkpoint")
    return notes


def _consistency(document: dict[str, Any], notes: list[Note]) -> None:
    proofs = document["consistency"]
    if not isinstance(proofs, list) or len(proofs) != len(notes) - 1:
        raise BundleInvalid("the bundle must link each checkpoint to the next")
    for item, old, new in zip(proofs, notes, notes[1:], strict=False):
        if set(item) != {"from", "to", "proof"}:
            raise BundleInvalid("a consistency proof has unexpected fields")
        if (item["from"], item["to"]) != (old.size, new.size) or not all(
            type(item[name]) is int for name in ("from", "to")
        ):
            raise BundleInvalid(
                f"the consistency proof {old.size}->{new.size} is missing"
            )
        proof = _hashes(item["proof"], f"consistency proof {old.size}->{new.size}")
        if not verify_consistency(old.size, new.size, old.root, new.root, proof):
            raise BundleInvalid(f"consistency proof {old.size}->{new.size} fails")


def _check_types(item: dict[str, Any]) -> None:
    """Reject look-alike values (``true`` for 1, upper-case hex) that would
    encode to the same leaf as the real ones."""
    actor = item["actor_id"]
    if actor is not None and type(actor) is not int:
        raise ValueError("actor_id")
    if any(type(item[name]) is not int for name in _INTEGERS):
        raise ValueError("integer field")
    if any(not isinstance(item[name], str) for name in _TEXTS):
        raise ValueError("text field")
    if not isinstance(item["event_id"], str) or not _EVENT_ID.fullmatch(
        item["event_id"]
    ):
        raise ValueError("event_id")


def _entries(document: dict[str, Any], log_id: uuid.UUID, head: Note) -> int | None:
    first: int | None = None
    for position, item in enumerate(document["entries"]):
        if not isinstance(item, dict) or set(item) != {*ENTRY_FIELDS, "inclusion"}:
            raise BundleInvalid("an entry has unexpected fields")
        seq = item["seq"]
        if first is None:
            first = seq
        if type(seq) is not int or seq != first + position:
            raise BundleInvalid(
                f"entry {first + position} is missing", first + position
            )
        try:
            _check_types(item)
            fields = [item[name] for name in ENTRY_FIELDS]
            fields[1] = bytes.fromhex(fields[1])
            fields[-1] = _base64(fields[-1])
            leaf = leaf_hash(encode_leaf_fields(log_id.bytes, *fields))
        except (ValueError, TypeError, OverflowError, struct.error) as exc:
            raise BundleInvalid(
                f"entry {seq} is malformed ({type(exc).__name__})", seq
            ) from None
        proof = _hashes(item["inclusion"], f"entry {seq}'s inclusion proof")
        if not verify_inclusion(leaf, seq, head.size, proof, head.root):
            raise BundleInvalid(f"entry {seq} is not in checkpoint {head.size}", seq)
    return first


def verify_bundle(
    data: bytes, pinned: dict[str, Ed25519PublicKey] | None = None
) -> BundleSummary:
    """Check every signature, proof element and entry; raise BundleInvalid."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BundleInvalid("the bundle is not JSON") from None
    if not isinstance(document, dict) or set(document) != TOP_KEYS:
        raise BundleInvalid("the bundle does not have the expected fields")
    if canonical_json(document) != data:
        raise BundleInvalid("the bundle is not in canonical form")
    if document["format"] != FORMAT:
        raise BundleInvalid(f"unknown bundle format {document['format']!r}")
    try:
        log_id = uuid.UUID(document["log_id"])
        keys = _keys(document, pinned)
        notes = _checkpoints(document, log_id, keys)
        _consistency(document, notes)
        first = _entries(document, log_id, notes[-1])
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
        raise BundleInvalid(f"the bundle is malformed ({type(exc).__name__})") from None
    if str(log_id) != document["log_id"]:
        raise BundleInvalid("the log id is not in canonical form")
    return BundleSummary(
        log_id, notes[-1].size, first, len(document["entries"]), sorted(keys)
    )
