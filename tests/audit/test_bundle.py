"""Evidence bundles: export, the appliance's own check, and the standalone
verifier run as the separate program an auditor would run."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from appliance.audit import config
from appliance.audit.bundle import ExportError, export_bundle
from appliance.audit.bundle_check import BundleInvalid, verify_bundle
from appliance.audit.models import AuditEvent
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record
from tests.support import standalone
from tests.support.tamper import changed_bytes

ROOT = Path(__file__).resolve().parents[2]


def write(count: int, prefix: str = "job") -> None:
    for i in range(count):
        record("job.submitted", object_type="job", object_id=f"{prefix}-{i}")
    sequence_now()


def whole_day() -> tuple[datetime, datetime]:
    now = timezone.now()
    return now - timedelta(hours=1), now + timedelta(hours=1)


def public_key_file() -> Path:
    return Path(settings.AUDIT_PUBLIC_KEY_FILES[0])


def run_standalone(bundle: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "verify_audit_bundle.py"),
            str(bundle),
            "--public-key",
            str(public_key_file()),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db
def test_exported_bundle_passes_the_appliance_check():
    write(30)
    exported = export_bundle(*whole_day(), actor=None)
    summary = verify_bundle(exported.data, config.trusted_keys())
    assert summary.entries == exported.count == 30
    assert summary.first_seq == 0
    assert summary.tree_size == 30


@pytest.mark.django_db
def test_standalone_verifier_accepts_the_bundle(tmp_path):
    write(30)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(export_bundle(*whole_day(), actor=None).data)
    result = run_standalone(bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("valid: entries 0 to 29")


@pytest.mark.django_db
def test_every_single_byte_change_is_rejected_by_both_verifiers():
    write(12)
    data = export_bundle(*whole_day(), actor=None).data
    verifier = standalone.load()
    keys = config.trusted_keys()
    pinned = {verifier.key_id_of(key): key for key in keys.values()}
    for changed in changed_bytes(data, random.Random(11), trials=300):
        with pytest.raises(BundleInvalid):
            verify_bundle(changed, keys)
        # What the verifier's main() reports as INVALID (exit status 1).
        with pytest.raises(
            (
                verifier.Rejected,
                ValueError,
                TypeError,
                KeyError,
                AttributeError,
                IndexError,
            )
        ):
            verifier.check_bundle(changed, pinned, None)


@pytest.mark.django_db
def test_standalone_verifier_rejects_a_changed_byte(tmp_path):
    write(12)
    data = bytearray(export_bundle(*whole_day(), actor=None).data)
    at = data.index(b'"object_id":"job-5"') + len('"object_id":"job-')
    data[at] = ord("6")
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(bytes(data))
    result = run_standalone(bundle)
    assert result.returncode == 1
    assert "entry 5 is not in the signed tree" in result.stdout


@pytest.mark.django_db
def test_standalone_verifier_rejects_another_signing_key(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from appliance.audit.signing import write_public_key

    write(5)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(export_bundle(*whole_day(), actor=None).data)
    other = tmp_path / "other.pub"
    write_public_key(Ed25519PrivateKey.generate(), other)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_audit_bundle.py"), str(bundle),
         "--public-key", str(other)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "not pinned" in result.stdout


@pytest.mark.django_db
def test_trusted_checkpoint_rejects_a_rolled_back_bundle(tmp_path):
    write(10)
    older = tmp_path / "older.json"
    older.write_bytes(export_bundle(*whole_day(), actor=None).data)
    write(10, prefix="more")
    newer = tmp_path / "newer.json"
    newer.write_bytes(export_bundle(*whole_day(), actor=None).data)
    saved = tmp_path / "trusted.json"
    assert run_standalone(newer, "--save-checkpoint", str(saved)).returncode == 0

    result = run_standalone(older, "--trusted-checkpoint", str(saved))

    assert result.returncode == 1
    assert "rolled back" in result.stdout


@pytest.mark.django_db
def test_trusted_checkpoint_links_to_a_newer_bundle(tmp_path):
    write(10)
    older = tmp_path / "older.json"
    older.write_bytes(export_bundle(*whole_day(), actor=None).data)
    saved = tmp_path / "trusted.json"
    assert run_standalone(older, "--save-checkpoint", str(saved)).returncode == 0
    write(10, prefix="more")
    size = json.loads(saved.read_text())["note"].split("\n")[2].split()[1]
    newer = tmp_path / "newer.json"
    start, end = whole_day()
    newer.write_bytes(export_bundle(start, end, actor=None, links=[int(size)]).data)

    assert run_standalone(newer, "--trusted-checkpoint", str(saved)).returncode == 0


@pytest.mark.django_db
def test_export_leaves_out_entries_after_the_last_checkpoint():
    write(8)
    record("job.submitted", object_type="job", object_id="late")
    sequence_now(checkpoint=False)
    exported = export_bundle(*whole_day(), actor=None)
    assert exported.count == 8
    assert b"late" not in exported.data


@pytest.mark.django_db
def test_export_refuses_a_range_above_the_limit():
    write(12)
    with (
        override_settings(AUDIT_EXPORT_MAX_ENTRIES=10),
        pytest.raises(ExportError, match="more than the 10"),
    ):
        export_bundle(*whole_day(), actor=None)


@pytest.mark.django_db
def test_export_is_recorded():
    write(3)
    export_bundle(*whole_day(), actor=None)
    assert AuditEvent.objects.filter(action="audit.exported").exists()
