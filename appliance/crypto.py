"""Authenticated encryption for data at rest, with ``cryptography``'s AES-GCM.

A sealed value is ``version (1) | key id (4) | nonce (12) | ciphertext+tag``.
The key id is the first four bytes of SHA-256 over the key, so values sealed
under a previous key still open after rotation while that key is listed in
``APPLIANCE_DATA_KEY_PREVIOUS``. Every call passes associated data that names
the row and field (for example ``job:<id>:input``), so a ciphertext copied to
another row or field fails to open.

Nonces are random (96 bits). NIST SP 800-38D bounds one key to 2**32 random-
nonce encryptions; rotate the data key well before that.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = b"\x01"
_HEADER = 1 + 4 + 12


class DecryptionError(Exception):
    """The value was tampered with, moved, or sealed under an unknown key."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


@lru_cache(maxsize=1)
def _keyring() -> tuple[bytes, dict[bytes, bytes]]:
    current = getattr(settings, "DATA_KEY", None)
    if not current or len(current) != 32:
        raise ImproperlyConfigured(
            "DATA_KEY is not configured: set APPLIANCE_DATA_KEY or "
            "APPLIANCE_DATA_KEY_FILE to 32 random bytes in base64."
        )
    keys = {key_id(current): current}
    for previous in getattr(settings, "DATA_KEYS_PREVIOUS", []):
        keys[key_id(previous)] = previous
    return current, keys


def reset_keyring() -> None:
    """Forget cached keys, after the settings changed (tests, rotation)."""
    _keyring.cache_clear()


def seal(plaintext: bytes, *, aad: bytes) -> bytes:
    current, _ = _keyring()
    nonce = os.urandom(12)
    ciphertext = AESGCM(current).encrypt(nonce, plaintext, aad)
    return VERSION + key_id(current) + nonce + ciphertext


def unseal(blob: bytes, *, aad: bytes) -> bytes:
    blob = bytes(blob)
    if len(blob) < _HEADER + 16 or blob[:1] != VERSION:
        raise DecryptionError("not a sealed value")
    _, keys = _keyring()
    key = keys.get(blob[1:5])
    if key is None:
        raise DecryptionError("sealed under a key that is not configured")
    try:
        return AESGCM(key).decrypt(blob[5:_HEADER], blob[_HEADER:], aad)
    except InvalidTag:
        raise DecryptionError("authentication failed") from None
