"""The auditors' console through Django's test client: who may open which
page, revealing with a reason, exporting, and what each visit records."""

from __future__ import annotations

import pytest
from django.test import Client

from appliance.accounts.roles import Role
from appliance.audit import access, config
from appliance.audit.bundle_check import verify_bundle
from appliance.audit.models import AuditEvent, LogEntry
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record
from appliance.logging import log_context

REASON = "Investigating a customer complaint, ticket 4411"


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def logged(make_user):
    actor = make_user(Role.STAFF, username="henrietta-falk")
    with log_context(client_ip="198.51.100.23"):
        for i in range(3):
            record(
                "job.submitted",
                actor=actor,
                object_type="job",
                object_id=f"job-{i}",
                details={"chars": 10 + i},
            )
        record("model.called", object_type="compliance", object_id="job-1")
    sequence_now()
    return actor


def denials() -> list[str]:
    events = AuditEvent.objects.using("audit").filter(action="access.denied")
    return list(events.values_list("object_type", flat=True))


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/audit/login/")


@pytest.mark.django_db
def test_auditor_sees_events_and_chain_status(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    response = client_for(auditor).get("/audit/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Chain status: OK" in body
    assert "job.submitted" in body
    assert "henrietta-falk" in body  # from the accounts table, by actor id
    assert "198.51.100.23" not in body


@pytest.mark.django_db
def test_auditor_filters_by_action_and_actor(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    client = client_for(auditor)
    by_action = client.get("/audit/", {"action": "model.called"}).content.decode()
    by_actor = client.get("/audit/", {"actor": "henrietta-falk"}).content.decode()
    assert "model.called" in by_action
    assert "job.submitted" not in by_action.split("<tbody>")[1]
    assert by_actor.split("<tbody>")[1].count("job.submitted") == 3


@pytest.mark.django_db
def test_searching_the_log_is_recorded(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    client_for(auditor).get("/audit/", {"action": "model.called"})
    event = AuditEvent.objects.filter(action="audit.searched").last()
    assert event is not None
    assert event.actor_id == auditor.pk


@pytest.mark.django_db
def test_staff_is_refused_and_the_refusal_recorded(logged, make_user, client_for):
    staff = make_user(Role.STAFF)
    response = client_for(staff).get("/audit/")
    assert response.status_code == 403
    assert denials() == ["audit_console"]


@pytest.mark.django_db
def test_admin_may_manage_access_but_not_read(logged, make_user, client_for):
    admin = make_user(Role.ADMIN)
    client = client_for(admin)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export/").status_code == 403
    assert client.get("/audit/access/").status_code == 200


@pytest.mark.django_db
def test_superuser_is_refused(logged, make_user, client_for):
    root = make_user(Role.AUDITOR)
    root.is_superuser = True
    root.save()
    assert client_for(root).get("/audit/").status_code == 403


@pytest.mark.django_db
def test_reveal_needs_the_granted_permission(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    seq = LogEntry.objects.get(object_id="job-0").seq
    response = client_for(auditor).post(f"/audit/entries/{seq}/", {"reason": REASON})
    assert response.status_code == 403


@pytest.mark.django_db
def test_admin_grant_lets_an_auditor_reveal_with_a_reason(
    logged, make_user, client_for
):
    admin = make_user(Role.ADMIN)
    auditor = make_user(Role.AUDITOR)
    granted = client_for(admin).post(
        "/audit/access/", {"username": auditor.username, "allowed": "on"}
    )
    assert granted.status_code == 302
    seq = LogEntry.objects.get(object_id="job-0").seq

    response = client_for(auditor).post(f"/audit/entries/{seq}/", {"reason": REASON})

    body = response.content.decode()
    assert response.status_code == 200
    assert "henrietta-falk" in body
    assert "198.51.100.23" in body
    grant = AuditEvent.objects.get(
        action="permission.granted", object_id=str(auditor.pk)
    )
    assert grant.actor_id == admin.pk
    reveal = AuditEvent.objects.using("audit").get(action="audit.revealed")
    assert reveal.actor_id == auditor.pk
    assert reveal.object_id == str(seq)


# The reveal is recorded on the audit connection: commit so that the
# sequencer, on the default connection, sees it.
@pytest.mark.django_db(transaction=True)
def test_reveal_reason_is_kept_encrypted(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    access.set_reveal(make_user(Role.ADMIN), auditor, allowed=True)
    auditor = type(auditor).objects.get(pk=auditor.pk)
    seq = LogEntry.objects.get(object_id="job-2").seq
    access.reveal(seq, auditor, REASON)
    sequence_now()
    reveal = LogEntry.objects.get(action="audit.revealed")
    assert REASON.encode() not in bytes(reveal.ciphertext)
    assert access.reveal(reveal.seq, auditor, REASON)["details"]["reason"] == REASON


@pytest.mark.django_db
def test_reveal_without_a_reason_is_refused(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    access.set_reveal(make_user(Role.ADMIN), auditor, allowed=True)
    seq = LogEntry.objects.get(object_id="job-0").seq
    response = client_for(auditor).post(f"/audit/entries/{seq}/", {"reason": "x"})
    assert response.status_code == 200
    assert "198.51.100.23" not in response.content.decode()


@pytest.mark.django_db
def test_auditor_exports_a_bundle_that_verifies(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    response = client_for(auditor).post(
        "/audit/export/", {"start": "2000-01-01T00:00", "end": "2100-01-01T00:00"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    summary = verify_bundle(response.content, config.trusted_keys())
    assert summary.entries == LogEntry.objects.count()


@pytest.mark.django_db
def test_verify_button_runs_and_reports(logged, make_user, client_for):
    auditor = make_user(Role.AUDITOR)
    response = client_for(auditor).post("/audit/verify/", {"mode": "full"}, follow=True)
    assert "The log verifies" in response.content.decode()


@pytest.mark.django_db
def test_field_content_is_escaped_in_the_console(make_user, client_for):
    record("job.access_denied", object_type="job", object_id="<script>x</script>")
    sequence_now()
    auditor = make_user(Role.AUDITOR)
    body = client_for(auditor).get("/audit/").content.decode()
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
