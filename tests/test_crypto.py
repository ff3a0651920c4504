"""Sealed values: AES-256-GCM bound to their row and field."""

from __future__ import annotations

import os

import pytest

from appliance import crypto


@pytest.fixture
def fresh_keys(settings):
    settings.DATA_KEY = os.urandom(32)
    settings.DATA_KEYS_PREVIOUS = []
    crypto.reset_keyring()
    yield settings
    crypto.reset_keyring()


def test_roundtrip(fresh_keys):
    blob = crypto.seal(b"quarterly numbers", aad=b"job:1:input")
    assert crypto.unseal(blob, aad=b"job:1:input") == b"quarterly numbers"


def test_plaintext_not_in_ciphertext(fresh_keys):
    assert b"quarterly" not in crypto.seal(b"quarterly numbers", aad=b"a")


def test_moved_to_other_row_fails(fresh_keys):
    blob = crypto.seal(b"value", aad=b"job:1:input")
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(blob, aad=b"job:2:input")


def test_flipped_bit_fails(fresh_keys):
    blob = bytearray(crypto.seal(b"value", aad=b"a"))
    blob[-1] ^= 0x01
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(bytes(blob), aad=b"a")


def test_previous_key_still_opens(fresh_keys):
    old_key = fresh_keys.DATA_KEY
    blob = crypto.seal(b"value", aad=b"a")
    fresh_keys.DATA_KEY = os.urandom(32)
    fresh_keys.DATA_KEYS_PREVIOUS = [old_key]
    crypto.reset_keyring()
    assert crypto.unseal(blob, aad=b"a") == b"value"


def test_unknown_key_fails(fresh_keys):
    blob = crypto.seal(b"value", aad=b"a")
    fresh_keys.DATA_KEY = os.urandom(32)
    crypto.reset_keyring()
    with pytest.raises(crypto.DecryptionError, match="not configured"):
        crypto.unseal(blob, aad=b"a")
