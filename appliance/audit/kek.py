"""Key-encryption keys, which wrap the audit log's data keys.

Two providers:

- ``local``: a 32-byte key from APPLIANCE_AUDIT_KEK (or its ``_FILE``), with
  earlier keys in APPLIANCE_AUDIT_KEK_PREVIOUS still accepted for unwrapping
  until ``manage.py audit rewrap`` has moved every data key to the current
  one. Wrapping is AES-256-GCM with a random nonce; the key id is the first
  eight bytes of SHA-256 over the key, in hex.
- ``vault``: HashiCorp Vault's (or OpenBao's) transit engine, which keeps
  the key and returns ``vault:vN:...`` ciphertexts. Rewrapping decrypts with
  transit and encrypts again, under the transit key's newest version.

Both bind the wrapped key to its log, scope and version through associated
data, so a wrapped key copied onto another row fails to unwrap. Keys wrapped
by either provider open as long as that provider is configured, which lets
an installation move from one to the other with ``audit rewrap``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from functools import lru_cache
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

NONCE_SIZE = 12


class KeyUnwrapError(Exception):
    """A wrapped data key failed to unwrap: wrong key, moved or altered."""


class KeyEncryptionKey(Protocol):
    def current_id(self) -> str: ...

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]: ...

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes: ...


def local_key_id(key: bytes) -> str:
    return "local:" + hashlib.sha256(key).digest()[:8].hex()


class LocalKek:
    """AES-256-GCM key wrapping under a key read from the environment."""

    def __init__(self, current: bytes, previous: list[bytes]) -> None:
        self._current_id = local_key_id(current)
        self._keys = {local_key_id(key): key for key in [*previous, current]}

    def current_id(self) -> str:
        return self._current_id

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_SIZE)
        sealed = AESGCM(self._keys[self._current_id]).encrypt(nonce, data_key, aad)
        return self._current_id, nonce + sealed

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        key = self._keys.get(kek_id)
        if key is None:
            raise KeyUnwrapError(
                f"the key-encryption key {kek_id} is not configured; list it in "
                "APPLIANCE_AUDIT_KEK_PREVIOUS until 'audit rewrap' has run"
            )
        try:
            return AESGCM(key).decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], aad)
        except InvalidTag:
            raise KeyUnwrapError(f"a data key wrapped by {kek_id} failed") from None


class VaultTransitKek:
    """Key wrapping by Vault's transit engine over its HTTP API."""

    def __init__(
        self, address: str, token: str, key_name: str, mount: str, ca_file: str | None
    ) -> None:
        self.key_name = key_name
        self._client = httpx.Client(
            base_url=f"{address.rstrip('/')}/v1/{mount.strip('/')}",
            headers={"X-Vault-Token": token},
            timeout=10.0,
            verify=ca_file or True,
        )

    def _post(self, operation: str, body: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._client.post(f"/{operation}/{self.key_name}", json=body)
        except httpx.HTTPError as exc:
            raise KeyUnwrapError(
                f"Vault transit {operation} failed ({type(exc).__name__})"
            ) from None
        if response.status_code != 200:
            raise KeyUnwrapError(
                f"Vault transit {operation} failed with HTTP {response.status_code}"
            )
        data: dict[str, Any] = response.json()["data"]
        return data

    def _id(self, ciphertext: str) -> str:
        version = ciphertext.split(":", 2)[1]
        return f"vault:{self.key_name}:{version}"

    def current_id(self) -> str:
        return f"vault:{self.key_name}"

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        data = self._post(
            "encrypt",
            {
                "plaintext": base64.b64encode(data_key).decode(),
                "associated_data": base64.b64encode(aad).decode(),
            },
        )
        ciphertext: str = data["ciphertext"]
        return self._id(ciphertext), ciphertext.encode()

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        data = self._post(
            "decrypt",
            {
                "ciphertext": wrapped.decode(),
                "associated_data": base64.b64encode(aad).decode(),
            },
        )
        return base64.b64decode(data["plaintext"])


class Keyring:
    """Wraps with the configured provider, and unwraps with whichever
    configured provider a key id names. Keys wrapped locally thus still open
    after a move to Vault, until ``audit rewrap`` has moved them, and the
    other way round."""

    def __init__(
        self, current: KeyEncryptionKey, providers: dict[str, KeyEncryptionKey]
    ) -> None:
        self.current = current
        self.providers = providers

    def current_id(self) -> str:
        return self.current.current_id()

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        return self.current.wrap(data_key, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        provider = self.providers.get(kek_id.split(":", 1)[0])
        if provider is None:
            raise KeyUnwrapError(
                f"a data key is wrapped by {kek_id}, but that provider is not "
                "configured; set it up again until 'audit rewrap' has run"
            )
        return provider.unwrap(kek_id, wrapped, aad)

    def rewrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> tuple[str, bytes]:
        # Transit's own rewrap request has no associated-data parameter (only
        # ciphertext, context, key_version and nonce), so decrypt and encrypt
        # again here, for every provider alike.
        return self.wrap(self.unwrap(kek_id, wrapped, aad), aad)


@lru_cache(maxsize=1)
def key_encryption_key() -> Keyring:
    """Return the configured providers, cached until ``reset`` is called."""
    providers: dict[str, KeyEncryptionKey] = {}
    if settings.AUDIT_KEK is not None:
        providers["local"] = LocalKek(
            settings.AUDIT_KEK, list(settings.AUDIT_KEKS_PREVIOUS)
        )
    if settings.AUDIT_VAULT_ADDR and settings.AUDIT_VAULT_TOKEN:
        providers["vault"] = VaultTransitKek(
            settings.AUDIT_VAULT_ADDR,
            settings.AUDIT_VAULT_TOKEN,
            settings.AUDIT_VAULT_KEY,
            settings.AUDIT_VAULT_MOUNT,
            settings.AUDIT_VAULT_CA_FILE,
        )
    current = providers.get(settings.AUDIT_KEK_PROVIDER)
    if current is None:
        raise ImproperlyConfigured(
            "The audit key-encryption key is not configured: set "
            "APPLIANCE_AUDIT_KEK (or APPLIANCE_AUDIT_KEK_FILE) to 32 random bytes "
            "in base64, or APPLIANCE_AUDIT_KEK_PROVIDER=vault with "
            "APPLIANCE_AUDIT_VAULT_ADDR and APPLIANCE_AUDIT_VAULT_TOKEN."
        )
    return Keyring(current, providers)


def reset() -> None:
    key_encryption_key.cache_clear()
