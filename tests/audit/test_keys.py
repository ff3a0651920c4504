"""Data keys: the use counter that forces rotation, rewrapping under a new
key-encryption key, and crypto-shredding."""

from __future__ import annotations

import base64
import os

import pytest
from django.test import override_settings
from django.utils import timezone

from appliance.accounts.roles import Role
from appliance.audit import access, config, datakeys, keyops
from appliance.audit.kek import local_key_id
from appliance.audit.models import AuditEvent, DataKey, LogEntry
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record
from appliance.audit.verification import verify_database

REASON = "Checking the key rotation for the quarterly audit"


def keys(scope: str) -> list[DataKey]:
    return list(DataKey.objects.using("audit").filter(scope=scope).order_by("version"))


@pytest.fixture
def auditor(make_user):
    return make_user(Role.AUDITOR)


@pytest.mark.django_db
def test_use_counter_retires_a_key_before_its_limit(auditor):
    scope = datakeys.scope_for(timezone.now(), None)
    with override_settings(AUDIT_KEY_MAX_USES=1024):
        for i in range(1100):
            record("job.submitted", object_type="job", object_id=str(i))
    sequence_now()

    versions = keys(scope)
    assert [key.version for key in versions] == [1, 2]
    assert versions[0].uses <= 1024
    assert versions[0].retired_at is not None
    first = LogEntry.objects.filter(key_version=1, object_id="0").get()
    last = LogEntry.objects.filter(key_version=2).last()
    assert last is not None
    assert access.reveal(first.seq, auditor, REASON)["details"] == {}
    assert access.reveal(last.seq, auditor, REASON)["details"] == {}


@pytest.mark.django_db
def test_use_counter_counts_reserved_blocks():
    scope = datakeys.scope_for(timezone.now(), None)
    record("job.submitted")
    assert keys(scope)[-1].uses == datakeys.RESERVE_BLOCK


@pytest.mark.django_db
def test_rotate_key_starts_a_new_version_and_old_entries_still_open(auditor):
    scope = datakeys.scope_for(timezone.now(), None)
    record("job.submitted", object_type="job", object_id="before")
    keyops.rotate(scope)
    record("job.submitted", object_type="job", object_id="after")
    sequence_now()

    before = LogEntry.objects.get(object_id="before")
    after = LogEntry.objects.get(object_id="after")
    assert after.key_version == before.key_version + 1
    assert access.reveal(before.seq, auditor, REASON)["actor"] == ""


@pytest.mark.django_db
def test_rewrap_moves_data_keys_to_a_new_kek(auditor, settings):
    record("job.submitted", object_type="job", object_id="wrapped-old")
    sequence_now()
    old_kek = settings.AUDIT_KEK
    new_kek = os.urandom(32)

    settings.AUDIT_KEK = new_kek
    settings.AUDIT_KEKS_PREVIOUS = [old_kek]
    config.reset()
    datakeys.reset_caches()
    moved = keyops.rewrap()

    assert moved >= 1
    assert {
        key.kek_id for key in DataKey.objects.using("audit").exclude(wrapped=None)
    } == {local_key_id(new_kek)}
    settings.AUDIT_KEKS_PREVIOUS = []
    config.reset()
    datakeys.reset_caches()
    entry = LogEntry.objects.get(object_id="wrapped-old")
    assert "details" in access.reveal(entry.seq, auditor, REASON)


@pytest.mark.django_db
def test_unknown_kek_fails_with_a_clear_error(auditor, settings):
    record("job.submitted", object_type="job", object_id="x")
    sequence_now()
    settings.AUDIT_KEK = os.urandom(32)
    config.reset()
    datakeys.reset_caches()
    entry = LogEntry.objects.get(object_id="x")
    with pytest.raises(Exception, match="APPLIANCE_AUDIT_KEK_PREVIOUS"):
        access.reveal(entry.seq, auditor, REASON)


@pytest.mark.django_db
def test_shredding_an_actor_makes_only_their_entries_unreadable(make_user, auditor):
    alice = make_user(Role.STAFF)
    bob = make_user(Role.STAFF)
    with override_settings(AUDIT_SUBJECT_KEYS=True):
        record("job.submitted", actor=alice, object_type="job", object_id="alice")
        record("job.submitted", actor=bob, object_type="job", object_id="bob")
        sequence_now()
        shredded = keyops.shred(actor_id=alice.pk)

        alice_entry = LogEntry.objects.get(object_id="alice")
        bob_entry = LogEntry.objects.get(object_id="bob")
        assert shredded.keys == 1
        with pytest.raises(access.RevealError, match="destroyed"):
            access.reveal(alice_entry.seq, auditor, REASON)
        assert access.reveal(bob_entry.seq, auditor, REASON)["actor"] == bob.username
    report = verify_database()
    assert report.ok, report.problems


@pytest.mark.django_db
def test_shredding_a_month_keeps_the_tree_verifying(auditor):
    event = record("job.submitted", object_type="job", object_id="old")
    sequence_now()
    keyops.rotate(event.key_scope)
    result = keyops.shred(scope=event.key_scope, force=True)

    assert result.keys >= 1
    stored = DataKey.objects.using("audit").get(scope=event.key_scope, version=1)
    assert stored.wrapped is None
    entry = LogEntry.objects.get(object_id="old")
    with pytest.raises(access.RevealError, match="destroyed"):
        access.reveal(entry.seq, auditor, REASON)
    assert verify_database().ok


@pytest.mark.django_db
def test_shredding_the_current_month_needs_force():
    record("job.submitted")
    current = datakeys.scope_for(timezone.now(), None)
    with pytest.raises(keyops.KeyOperationError, match="current month"):
        keyops.shred(scope=current)


@pytest.mark.django_db
def test_key_operations_are_recorded():
    record("job.submitted")
    keyops.rotate()
    keyops.rewrap()
    actions = set(AuditEvent.objects.using("audit").values_list("action", flat=True))
    assert {
        "audit.key_created",
        "audit.keys_rotated",
        "audit.keys_rewrapped",
    } <= actions


def test_local_kek_id_does_not_reveal_the_key():
    key = os.urandom(32)
    assert base64.b64encode(key).decode() not in local_key_id(key)
    assert local_key_id(key).startswith("local:")
