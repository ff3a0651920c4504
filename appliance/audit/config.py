"""The audit log's keys and sink, read once from the settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from appliance.audit import kek
from appliance.audit.signing import load_private_key, load_public_key, public_key_id
from appliance.audit.sink import FileSink


@lru_cache(maxsize=1)
def signing_key() -> Ed25519PrivateKey:
    path = settings.AUDIT_SIGNING_KEY_FILE
    if not path:
        raise ImproperlyConfigured(
            "APPLIANCE_AUDIT_SIGNING_KEY_FILE is not set; the sequencer needs it "
            "to sign checkpoints."
        )
    return load_private_key(Path(path))


@lru_cache(maxsize=1)
def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Public keys that may sign checkpoints, by key id."""
    keys = [load_public_key(Path(path)) for path in settings.AUDIT_PUBLIC_KEY_FILES]
    if not keys:
        raise ImproperlyConfigured(
            "APPLIANCE_AUDIT_PUBLIC_KEY_FILES is not set; verifying the audit log "
            "needs the checkpoint signing key's public half."
        )
    return {public_key_id(key): key for key in keys}


@lru_cache(maxsize=1)
def sink() -> FileSink:
    directory = settings.AUDIT_SINK_DIR
    if not directory:
        raise ImproperlyConfigured(
            "APPLIANCE_AUDIT_SINK_DIR is not set; checkpoints need a directory on "
            "a volume the database cannot write."
        )
    return FileSink(Path(directory))


def reset() -> None:
    """Forget what was read, after the settings changed (tests)."""
    signing_key.cache_clear()
    trusted_keys.cache_clear()
    sink.cache_clear()
    kek.reset()
