"""Events for what Django does itself: sign-ins, failed sign-ins, sign-outs
and permission changes."""

from __future__ import annotations

import pytest
from django.test import Client

from appliance.accounts.roles import Role
from appliance.accounts.services import create_user
from appliance.audit import access
from appliance.audit.models import AuditEvent

PASSWORD = "correct horse battery staple"


@pytest.fixture
def person(roles):
    return create_user("ingrid-solberg", roles=[Role.AUDITOR], password=PASSWORD)


@pytest.mark.django_db
def test_sign_in_and_out_are_recorded(person):
    client = Client(REMOTE_ADDR="192.0.2.14")
    response = client.post(
        "/audit/login/", {"username": "ingrid-solberg", "password": PASSWORD}
    )
    assert response.status_code == 302
    client.post("/audit/logout/")

    actions = list(
        AuditEvent.objects.filter(actor_id=person.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["auth.login", "auth.logout"]


@pytest.mark.django_db
def test_failed_sign_in_is_recorded_durably(person):
    response = Client().post(
        "/audit/login/", {"username": "ingrid-solberg", "password": "wrong"}
    )
    assert response.status_code == 200
    failures = AuditEvent.objects.using("audit").filter(action="auth.login_failed")
    assert failures.count() == 1
    assert failures.get().outcome == "denied"


@pytest.mark.django_db
def test_permission_grant_names_the_administrator(person, make_user):
    admin = make_user(Role.ADMIN)
    access.set_reveal(admin, person, allowed=True)
    access.set_reveal(admin, person, allowed=False)
    events = AuditEvent.objects.filter(object_id=str(person.pk), actor_id=admin.pk)
    assert list(events.order_by("id").values_list("action", flat=True)) == [
        "permission.granted",
        "permission.revoked",
    ]


@pytest.mark.django_db
def test_role_assignment_is_recorded(person):
    event = AuditEvent.objects.get(action="role.granted", object_id=str(person.pk))
    assert event.object_type == "user"
