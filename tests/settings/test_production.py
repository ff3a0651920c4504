"""Production settings: explicit connections and keys, and a clean
``check --deploy``. Each case runs manage.py in a fresh process, since
settings are read once per process."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Key files for the audit log's settings; production reads only their paths
# at start-up, the sequencer and the verifier read the files.
AUDIT_KEYS = ROOT / "var" / "test" / "production-audit-keys"


def audit_env() -> dict[str, str]:
    from appliance.embedded import audit_signing_key

    private, public = audit_signing_key(AUDIT_KEYS)
    return {
        "APPLIANCE_AUDIT_KEK": base64.b64encode(os.urandom(32)).decode(),
        "APPLIANCE_AUDIT_SIGNING_KEY_FILE": private,
        "APPLIANCE_AUDIT_PUBLIC_KEY_FILES": public,
        "APPLIANCE_AUDIT_SINK_DIR": str(AUDIT_KEYS / "sink"),
    }


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("APPLIANCE_")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "appliance.settings.production",
            "APPLIANCE_SECRET_KEY": secrets.token_urlsafe(64),
            "APPLIANCE_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "APPLIANCE_DATABASE_URL": "postgresql://app:pw@db.invalid:5432/appliance",
            "APPLIANCE_BROKER_URL": "amqp://app:pw@broker.invalid:5672/appliance",
            "APPLIANCE_ALLOWED_HOSTS": "appliance.example.internal",
            **audit_env(),
        }
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(f"APPLIANCE_{key}", None)
        else:
            env[f"APPLIANCE_{key}"] = value
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_clean():
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DATABASE_URL",
        "BROKER_URL",
        "SECRET_KEY",
        "DATA_KEY",
        "AUDIT_KEK",
        "AUDIT_SIGNING_KEY_FILE",
        "AUDIT_PUBLIC_KEY_FILES",
        "AUDIT_SINK_DIR",
    ],
)
def test_missing_setting_stops_startup(missing):
    result = manage(production_env(**{missing: None}), "check")
    assert result.returncode != 0
    assert f"APPLIANCE_{missing}" in result.stderr


def test_bad_value_stops_startup():
    result = manage(production_env(TASK_TIME_LIMIT="soon"), "check")
    assert result.returncode != 0
    assert "APPLIANCE_TASK_TIME_LIMIT='soon' is not a whole number" in result.stderr


def test_secret_key_from_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(64) + "\n")
    env = production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr


def test_production_never_starts_embedded_database(tmp_path):
    env = production_env(VAR_DIR=str(tmp_path))
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "postgres").exists()
    assert "quick-start" not in result.stderr


def test_vault_provider_needs_address_and_token():
    env = production_env(AUDIT_KEK=None, AUDIT_KEK_PROVIDER="vault")
    result = manage(env, "check")
    assert result.returncode != 0
    assert "APPLIANCE_AUDIT_VAULT_ADDR" in result.stderr


def test_signing_key_file_is_not_read_at_start(tmp_path):
    # The web server and the worker get the signing key's path but cannot
    # read the file; only the sequencer opens it.
    missing = tmp_path / "audit-signing" / "audit_signing_key.pem"
    env = production_env(AUDIT_SIGNING_KEY_FILE=str(missing))
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def test_sequencer_stops_at_start_without_signing_key(tmp_path):
    missing = tmp_path / "audit-signing" / "audit_signing_key.pem"
    env = production_env(AUDIT_SIGNING_KEY_FILE=str(missing))
    result = manage(env, "audit", "sequencer")
    assert result.returncode != 0
    assert f"the key file {missing} cannot be read" in result.stderr
