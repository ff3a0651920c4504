#!/usr/bin/env python3
"""Check an audit evidence bundle exported by the appliance.

Needs Python 3.11 and the ``cryptography`` package, nothing else: it shares no
code with the appliance, and follows the formats in docs/audit.md. Copy this
file to the machine where the audit happens.

    python verify_audit_bundle.py BUNDLE.json --public-key audit_signing_key.pub
    python verify_audit_bundle.py BUNDLE.json --public-key KEY \\
        --trusted-checkpoint last.json --save-checkpoint last.json

It checks that the file is in canonical form, so that no byte can change
unseen. It checks every checkpoint signature against the pinned public keys
and every consistency proof between checkpoints. For every entry it checks
the encoding and the inclusion proof into the newest checkpoint. Proofs are
recomputed with the recursive definitions of RFC 6962, section 2.1, and must
use every element exactly.
With --trusted-checkpoint (a checkpoint kept from an earlier bundle) it also
rejects a bundle whose tree is older than, or forked from, that checkpoint.

Exit status: 0 valid, 1 invalid, 2 usage or file errors.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import re
import struct
import sys
import uuid
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BUNDLE_FORMAT = "appliance-audit-bundle/1"
NOTE_PATTERN = re.compile(
    r"appliance-audit-checkpoint/1\n"
    r"log ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\n"
    r"size (0|[1-9][0-9]{0,18})\n"
    r"root ([0-9a-f]{64})\n"
    r"time ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)\n"
    r"key ([0-9a-f]{16})\n"
)
ENTRY_KEYS = [
    "action", "actor_id", "ciphertext", "event_id", "inclusion", "key_scope",
    "key_version", "object_id", "object_type", "occurred_us", "outcome",
    "request_id", "seq", "sequenced_us",
]  # fmt: skip


class Rejected(Exception):
    pass


# --- hashing (RFC 6962, 2.1) ------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash_leaf(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def hash_children(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class ProofReader:
    """Hands out proof elements from the end, as RFC 6962's recursion
    appends them, and lets the caller check that all were used."""

    def __init__(self, elements: list[bytes]) -> None:
        self.elements = elements
        self.end = len(elements)

    def take(self) -> bytes:
        if self.end == 0:
            raise Rejected("a proof is too short")
        self.end -= 1
        return self.elements[self.end]

    def finish(self) -> None:
        if self.end != 0:
            raise Rejected("a proof has elements left over")


def root_from_path(leaf: bytes, index: int, size: int, reader: ProofReader) -> bytes:
    """Invert PATH(m, D[n]): rebuild MTH(D[n]) from a leaf hash and its path."""
    if not 0 <= index < size:
        raise Rejected("a leaf index lies outside its tree")
    if size == 1:
        return leaf
    k = largest_power_of_two_below(size)
    sibling = reader.take()
    if index < k:
        return hash_children(root_from_path(leaf, index, k, reader), sibling)
    return hash_children(sibling, root_from_path(leaf, index - k, size - k, reader))


def roots_from_consistency(
    m: int, n: int, old_root: bytes, reader: ProofReader, whole_old_tree: bool
) -> tuple[bytes, bytes]:
    """Invert SUBPROOF(m, D[n], b): return (MTH of the old part, MTH(D[n]))."""
    if m == n:
        if whole_old_tree:
            return old_root, old_root
        node = reader.take()
        return node, node
    k = largest_power_of_two_below(n)
    if m <= k:
        right = reader.take()
        old, new = roots_from_consistency(m, k, old_root, reader, whole_old_tree)
        return old, hash_children(new, right)
    left = reader.take()
    old, new = roots_from_consistency(m - k, n - k, old_root, reader, False)
    return hash_children(left, old), hash_children(left, new)


# --- formats (docs/audit.md) --------------------------------------------------------


def text_field(value: object) -> bytes:
    if not isinstance(value, str):
        raise Rejected("a text field is not a string")
    data = value.encode("utf-8")
    if len(data) > 0xFFFF:
        raise Rejected("a text field is too long")
    return struct.pack(">H", len(data)) + data


def integer(value: object, bits: int, signed: bool) -> int:
    if type(value) is not int:
        raise Rejected("a number field is not an integer")
    low = -(1 << (bits - 1)) if signed else 0
    high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if not low <= value <= high:
        raise Rejected("a number field is out of range")
    return value


def strict_base64(value: object) -> bytes:
    """Decode base64 that is written the one canonical way, so that no
    character (not even unused bits of the last one) can change unseen."""
    if not isinstance(value, str):
        raise Rejected("a base64 field is not a string")
    decoded = base64.b64decode(value, validate=True)
    if base64.b64encode(decoded).decode("ascii") != value:
        raise Rejected("a base64 field is not in canonical form")
    return decoded


def leaf_bytes(log_id: uuid.UUID, entry: dict[str, Any]) -> bytes:
    actor = entry["actor_id"]
    if not isinstance(entry["event_id"], str) or not re.fullmatch(
        r"[0-9a-f]{32}", entry["event_id"]
    ):
        raise Rejected("an event id is not 16 bytes in lower-case hex")
    event_id = bytes.fromhex(entry["event_id"])
    ciphertext = strict_base64(entry["ciphertext"])
    parts = [
        b"\x01",
        log_id.bytes,
        struct.pack(">Q", integer(entry["seq"], 64, False)),
        event_id,
        struct.pack(">q", integer(entry["occurred_us"], 64, True)),
        struct.pack(">q", integer(entry["sequenced_us"], 64, True)),
        b"\x00"
        if actor is None
        else b"\x01" + struct.pack(">q", integer(actor, 64, True)),
    ]
    for name in (
        "action",
        "object_type",
        "object_id",
        "outcome",
        "request_id",
        "key_scope",
    ):
        parts.append(text_field(entry[name]))
    parts.append(struct.pack(">I", integer(entry["key_version"], 32, False)))
    parts.append(struct.pack(">I", len(ciphertext)))
    parts.append(ciphertext)
    return b"".join(parts)


def hex_hash(value: object) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise Rejected("a proof element is not a 32-byte hash in hex")
    return bytes.fromhex(value)


def read_note(
    item: dict[str, Any], keys: dict[str, Ed25519PublicKey]
) -> dict[str, Any]:
    if sorted(item) != ["note", "signature"]:
        raise Rejected("a checkpoint has unexpected fields")
    text = item["note"]
    match = NOTE_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise Rejected("a checkpoint note is malformed")
    key = keys.get(match[5])
    if key is None:
        raise Rejected(f"a checkpoint is signed by key {match[5]}, which is not pinned")
    try:
        key.verify(strict_base64(item["signature"]), text.encode())
    except (InvalidSignature, ValueError):
        raise Rejected(
            f"the checkpoint of size {match[2]} has an invalid signature"
        ) from None
    return {"log": match[1], "size": int(match[2]), "root": bytes.fromhex(match[3]),
            "time": match[4], "item": item}  # fmt: skip


# --- the checks ---------------------------------------------------------------------


def check_consistency(
    old: dict[str, Any], new: dict[str, Any], elements: list[bytes]
) -> None:
    m, n = old["size"], new["size"]
    if m == 0:
        if elements:
            raise Rejected("a consistency proof from an empty tree must be empty")
        return
    reader = ProofReader(elements)
    old_root, new_root = roots_from_consistency(m, n, old["root"], reader, True)
    reader.finish()
    if old_root != old["root"] or new_root != new["root"]:
        raise Rejected(f"the consistency proof from {m} to {n} does not hold")


def parse_canonical(raw: bytes) -> dict[str, Any]:
    """Parse the bundle and insist on the one serialization the appliance
    writes, so that no byte can change without changing a checked value."""
    try:
        bundle = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise Rejected("the file is not an ASCII JSON document") from None
    canonical = json.dumps(
        bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    if (canonical + "\n").encode("ascii") != raw:
        raise Rejected("the file is not in canonical form: it was altered")
    expected = [
        "checkpoints",
        "consistency",
        "entries",
        "format",
        "log_id",
        "public_keys",
    ]
    if not isinstance(bundle, dict) or sorted(bundle) != expected:
        raise Rejected("the bundle does not have the expected fields")
    if bundle["format"] != BUNDLE_FORMAT:
        raise Rejected("unknown bundle format")
    if str(uuid.UUID(bundle["log_id"])) != bundle["log_id"]:
        raise Rejected("the log id is not in canonical form")
    return bundle


def check_keys(bundle: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> None:
    for key_id, encoded in bundle["public_keys"].items():
        # Only pinned keys are trusted; the others must still be intact.
        raw_key = strict_base64(encoded)
        if key_id_of(Ed25519PublicKey.from_public_bytes(raw_key)) != key_id:
            raise Rejected(f"the bundle's key {key_id} does not have that key id")
        if key_id in keys and raw_key != keys[key_id].public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ):
            raise Rejected(f"the bundle's key {key_id} is not the pinned key")


def check_checkpoints(
    bundle: dict[str, Any], keys: dict[str, Ed25519PublicKey]
) -> list[dict[str, Any]]:
    notes = [read_note(item, keys) for item in bundle["checkpoints"]]
    if not notes:
        raise Rejected("the bundle has no checkpoint")
    for earlier, later in itertools.pairwise(notes):
        if later["size"] <= earlier["size"] or later["time"] < earlier["time"]:
            raise Rejected("the checkpoints are not in order")
    for note in notes:
        if note["log"] != bundle["log_id"]:
            raise Rejected("a checkpoint belongs to another log")
    links = bundle["consistency"]
    if len(links) != len(notes) - 1:
        raise Rejected("the checkpoints are not all linked by consistency proofs")
    for link, old, new in zip(links, notes, notes[1:], strict=False):
        if (
            sorted(link) != ["from", "proof", "to"]
            or type(link["from"]) is not int
            or type(link["to"]) is not int
            or (link["from"], link["to"]) != (old["size"], new["size"])
        ):
            raise Rejected("a consistency proof does not link two adjacent checkpoints")
        check_consistency(old, new, [hex_hash(h) for h in link["proof"]])
    return notes


def check_entries(bundle: dict[str, Any], head: dict[str, Any]) -> str:
    log_id = uuid.UUID(bundle["log_id"])
    entries = bundle["entries"]
    if not entries:
        return "no entries"
    first = entries[0]["seq"]
    if type(first) is not int:
        raise Rejected("the first entry has no sequence number")
    for offset, entry in enumerate(entries):
        if not isinstance(entry, dict) or sorted(entry) != ENTRY_KEYS:
            raise Rejected(f"entry {offset} of the bundle has unexpected fields")
        seq = entry["seq"]
        if type(seq) is not int or seq != first + offset:
            raise Rejected(f"entry {first + offset} is missing from the bundle")
        if seq >= head["size"]:
            raise Rejected(f"entry {seq} is outside the checkpointed tree")
        leaf = hash_leaf(leaf_bytes(log_id, entry))
        if not isinstance(entry["inclusion"], list):
            raise Rejected(f"entry {seq} has no inclusion proof")
        reader = ProofReader([hex_hash(h) for h in entry["inclusion"]])
        root = root_from_path(leaf, seq, head["size"], reader)
        reader.finish()
        if root != head["root"]:
            raise Rejected(f"entry {seq} is not in the signed tree (first bad entry)")
    return f"entries {first} to {first + len(entries) - 1}"


def check_bundle(
    raw: bytes, keys: dict[str, Ed25519PublicKey], trusted: dict[str, Any] | None
) -> str:
    """Check everything; return a one-line summary or raise Rejected."""
    bundle = parse_canonical(raw)
    check_keys(bundle, keys)
    notes = check_checkpoints(bundle, keys)
    head = notes[-1]
    if trusted is not None:
        check_against_trusted(trusted, notes)
    span = check_entries(bundle, head)
    return (
        f"valid: {span} of log {bundle['log_id']}, in the tree of {head['size']} "
        f"entries signed at {head['time']}"
    )


def check_against_trusted(trusted: dict[str, Any], notes: list[dict[str, Any]]) -> None:
    head = notes[-1]
    if trusted["log"] != head["log"]:
        raise Rejected("the trusted checkpoint belongs to another log")
    if trusted["size"] > head["size"]:
        raise Rejected(
            f"the bundle's newest checkpoint ({head['size']} entries) is older than "
            f"the trusted one ({trusted['size']}): the log was rolled back"
        )
    for note in notes:
        if note["size"] == trusted["size"]:
            if note["root"] != trusted["root"]:
                raise Rejected("the bundle's tree is a fork of the trusted checkpoint")
            return
    raise Rejected(
        "the bundle does not link to the trusted checkpoint of size "
        f"{trusted['size']}; export it again with that checkpoint linked"
    )


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(
        base64.b64decode(data.strip(), validate=True)
    )


def key_id_of(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an audit evidence bundle.")
    parser.add_argument("bundle", type=Path, help="the bundle file (.json)")
    parser.add_argument(
        "--public-key", type=Path, action="append", required=True,
        help="a checkpoint signing public key to trust (repeat for retired keys)",
    )  # fmt: skip
    parser.add_argument(
        "--trusted-checkpoint", type=Path,
        help="a checkpoint saved from an earlier bundle; rejects rollbacks and forks",
    )  # fmt: skip
    parser.add_argument(
        "--save-checkpoint", type=Path,
        help="after success, save the bundle's newest checkpoint to this file",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        keys = {key_id_of(k): k for k in map(load_public_key, args.public_key)}
        raw = args.bundle.read_bytes()
        trusted = None
        if args.trusted_checkpoint is not None:
            item = json.loads(args.trusted_checkpoint.read_text())
            trusted = read_note(item, keys)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Rejected as exc:
        print(f"error: the trusted checkpoint is invalid: {exc}", file=sys.stderr)
        return 2
    try:
        summary = check_bundle(raw, keys, trusted)
    except Rejected as exc:
        print(f"INVALID: {exc}")
        return 1
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        print(f"INVALID: the bundle is malformed ({type(exc).__name__})")
        return 1
    print(summary)
    if args.save_checkpoint is not None:
        head = json.loads(raw)["checkpoints"][-1]
        args.save_checkpoint.write_text(json.dumps(head, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
