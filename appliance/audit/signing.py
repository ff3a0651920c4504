"""Signed checkpoints: Ed25519 signatures over a small text note that names
the log, the tree size, the root, the time and the signing key.

The note, exactly (each line ends in ``\\n``)::

    appliance-audit-checkpoint/1
    log <log id, UUID in canonical lower-case form>
    size <tree size, decimal>
    root <root hash, 64 lower-case hex digits>
    time <UTC time, YYYY-MM-DDTHH:MM:SS.ffffffZ>
    key <key id: first 8 bytes of SHA-256 over the raw public key, hex>

The signing key is read only by the sequencer. Verifiers need the public keys
alone (APPLIANCE_AUDIT_PUBLIC_KEY_FILES), so a process that can check the log
cannot sign a checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

HEADER = "appliance-audit-checkpoint/1"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_NOTE = re.compile(
    r"\A" + re.escape(HEADER) + r"\n"
    r"log (?P<log>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\n"
    r"size (?P<size>0|[1-9][0-9]{0,18})\n"
    r"root (?P<root>[0-9a-f]{64})\n"
    r"time (?P<time>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)\n"
    r"key (?P<key>[0-9a-f]{16})\n\Z"
)


class KeyFileError(Exception):
    """A key file is missing, unreadable or not an Ed25519 key."""


@dataclass(frozen=True)
class Note:
    log_id: uuid.UUID
    size: int
    root: bytes
    signed_at: datetime
    key_id: str

    def text(self) -> str:
        return (
            f"{HEADER}\n"
            f"log {self.log_id}\n"
            f"size {self.size}\n"
            f"root {self.root.hex()}\n"
            f"time {self.signed_at.astimezone(UTC).strftime(_TIME_FORMAT)}\n"
            f"key {self.key_id}\n"
        )


def parse_note(text: str) -> Note:
    match = _NOTE.match(text)
    if match is None:
        raise ValueError("not a well-formed checkpoint note")
    signed_at = datetime.strptime(match["time"], _TIME_FORMAT).replace(tzinfo=UTC)
    return Note(
        log_id=uuid.UUID(match["log"]),
        size=int(match["size"]),
        root=bytes.fromhex(match["root"]),
        signed_at=signed_at,
        key_id=match["key"],
    )


def public_key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).digest()[:8].hex()


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def sign(note: Note, private_key: Ed25519PrivateKey) -> bytes:
    return private_key.sign(note.text().encode("ascii"))


def verify(note_text: str, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(signature, note_text.encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError):
        return False
    return True


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(
            f"the key file {path} cannot be read ({exc.strerror})"
        ) from None


def _base64(data: bytes) -> bytes | None:
    try:
        return base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM (PKCS #8) Ed25519 key, or a 32-byte seed in base64."""
    data = _read(path)
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{path} holds a private key that is not Ed25519")
        return key
    seed = _base64(data)
    if seed is None or len(seed) != 32:
        raise KeyFileError(
            f"{path} is neither a PEM Ed25519 key nor 32 bytes in base64"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key, or the 32 raw bytes in base64."""
    data = _read(path)
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileError(f"{path} holds a public key that is not Ed25519")
        return key
    raw = _base64(data)
    if raw is None or len(raw) != 32:
        raise KeyFileError(
            f"{path} is neither a PEM Ed25519 key nor 32 bytes in base64"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def write_public_key(private_key: Ed25519PrivateKey, path: Path) -> None:
    """Write the public half as base64 of the raw 32 bytes."""
    raw = raw_public_key(private_key.public_key())
    path.write_text(base64.b64encode(raw).decode() + "\n")
