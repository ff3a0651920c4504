"""``record``: what lands in the pending table, in clear and encrypted, and
in which transaction."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection, transaction

from appliance.accounts.roles import Role
from appliance.audit import datakeys
from appliance.audit.canonical import encode_aad, to_micros
from appliance.audit.models import AuditEvent
from appliance.audit.services import read_fields, record
from appliance.logging import log_context


def aad_of(event: AuditEvent) -> bytes:
    return encode_aad(
        log_id=datakeys.log_id(),
        event_id=event.event_id.bytes,
        occurred_us=to_micros(event.occurred_at),
        actor_id=event.actor_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        outcome=event.outcome,
        request_id=event.request_id,
        key_scope=event.key_scope,
        key_version=event.key_version,
    )


@pytest.mark.django_db
def test_record_encrypts_sensitive_fields(make_user):
    user = make_user(Role.STAFF, username="marguerite-ledoux")
    with log_context(request_id="req-12345678", client_ip="203.0.113.77"):
        event = record(
            "job.submitted",
            actor=user,
            object_type="job",
            object_id="a1b2",
            details={"chars": 1200},
        )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_id == user.pk
    assert stored.action == "job.submitted"
    assert stored.object_id == "a1b2"
    assert stored.request_id == "req-12345678"
    assert read_fields(stored) == {
        "actor": "marguerite-ledoux",
        "client_ip": "203.0.113.77",
        "details": {"chars": 1200},
    }


@pytest.mark.django_db
def test_record_leaves_no_name_or_address_in_clear(make_user):
    user = make_user(Role.STAFF, username="marguerite-ledoux")
    with log_context(client_ip="203.0.113.77"):
        record("job.submitted", actor=user, object_type="job", object_id="x")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM audit_event e "
            "WHERE e::text LIKE %s OR e::text LIKE %s",
            ["%marguerite%", "%203.0.113.77%"],
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_ciphertext_moved_to_another_row_fails_to_decrypt():
    first = record("job.submitted", object_type="job", object_id="one")
    second = record("job.submitted", object_type="job", object_id="two")
    with pytest.raises(InvalidTag):
        datakeys.decrypt(
            second.key_scope,
            second.key_version,
            bytes(first.ciphertext),
            aad_of(second),
        )


@pytest.mark.django_db
def test_changed_clear_field_fails_authentication():
    event = record("job.submitted", object_type="job", object_id="one")
    event.outcome = "denied"
    with pytest.raises(InvalidTag):
        read_fields(event)


@pytest.mark.django_db(transaction=True)
def test_durable_event_survives_rollback_of_the_action():
    with pytest.raises(RuntimeError), transaction.atomic():
        record("job.submitted", object_type="job", object_id="kept-out")
        record(
            "access.denied",
            object_type="job",
            object_id="kept",
            outcome="denied",
            durable=True,
        )
        raise RuntimeError("the action fails")

    assert not AuditEvent.objects.filter(object_id="kept-out").exists()
    assert AuditEvent.objects.filter(object_id="kept", action="access.denied").exists()


@pytest.mark.django_db
def test_record_rejects_long_detail_string():
    with pytest.raises(ValueError, match="never content"):
        record("job.submitted", details={"text": "x" * 201})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action", ["Job.Submitted", "job submitted", "job\nforged", ""]
)
def test_record_rejects_malformed_action(action):
    with pytest.raises(ValueError, match="action"):
        record(action)


@pytest.mark.django_db
def test_record_rejects_unknown_outcome():
    with pytest.raises(ValueError, match="outcome"):
        record("job.submitted", outcome="maybe")


@pytest.mark.django_db
def test_object_id_kept_verbatim():
    event = record("job.access_denied", object_type="job", object_id="a\nb;c" * 30)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.object_id == ("a\nb;c" * 30)[:64]


@pytest.mark.django_db
def test_object_id_nul_replaced():
    event = record("job.access_denied", object_type="job", object_id="a\x00b")
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.object_id == "a\ufffdb"
