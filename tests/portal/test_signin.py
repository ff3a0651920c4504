"""Sign-in through the portal: password, lockout, idle timeout and the
second factor, through Django's test client."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from appliance.accounts.models import User
from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent, Outcome
from appliance.audit.services import read_fields
from appliance.portal.middleware import LAST_ACTIVITY
from tests.portal.conftest import PASSWORD, totp_code


def events(action: str) -> list[AuditEvent]:
    """Events of ``action`` on either connection: denials are written on the
    ``audit`` connection, in a transaction of their own."""
    found = []
    for alias in ("default", "audit"):
        found += list(AuditEvent.objects.using(alias).filter(action=action))
    return found


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_home_redirects_anonymous_to_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_sign_in_reaches_home(person):
    person("ana-staff")
    client = Client()
    response = sign_in(client, "ana-staff")
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Compliance check" in home.content
    assert len(events("auth.login")) == 1


def test_wrong_password_shows_error(person):
    person("ana-staff")
    response = sign_in(Client(), "ana-staff", "not the password")
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_lockout_after_failure_limit(person, settings):
    person("bo-staff")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "bo-staff", "wrong password").status_code == 200
    locked = sign_in(client, "bo-staff", "wrong password")
    assert locked.status_code == 429
    assert b"Sign-in locked" in locked.content

    # The right password does not help while the lockout lasts.
    assert sign_in(client, "bo-staff").status_code == 429
    assert "_auth_user_id" not in client.session

    locked_out = events("auth.locked_out")
    assert len(locked_out) == 2
    event = locked_out[0]
    assert event.outcome == Outcome.DENIED
    assert event.object_id == str(User.objects.get(username="bo-staff").pk)
    fields = read_fields(event)
    assert fields["details"]["username"] == "bo-staff"
    assert fields["details"]["failure_limit"] == settings.AXES_FAILURE_LIMIT


def test_lockout_is_per_user(person, settings):
    person("cy-staff")
    person("di-staff")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "cy-staff", "wrong password")
    assert sign_in(client, "di-staff").status_code == 302


def test_idle_session_expires(person, settings):
    person("ed-staff")
    client = Client()
    sign_in(client, "ed-staff")
    assert client.get("/jobs/").status_code == 200

    session = client.session
    session[LAST_ACTIVITY] = time.time() - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/jobs/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fjobs%2F"
    assert client.get("/").status_code == 302
    assert len(events("auth.session_expired")) == 1


def test_background_poll_keeps_idle_clock(person):
    person("fay-staff")
    client = Client()
    sign_in(client, "fay-staff")
    client.get("/")
    before = client.session[LAST_ACTIVITY]
    time.sleep(0.05)
    client.get("/jobs/", HTTP_X_BACKGROUND="1")
    assert client.session[LAST_ACTIVITY] == before
    client.get("/jobs/")
    assert client.session[LAST_ACTIVITY] > before


def test_htmx_request_after_expiry_gets_redirect_header(person, settings):
    person("gus-staff")
    client = Client()
    sign_in(client, "gus-staff")
    session = client.session
    session[LAST_ACTIVITY] = time.time() - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/jobs/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=%2Fjobs%2F"


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.AUDITOR])
def test_second_factor_enrolment_required(person, settings, role):
    settings.REQUIRE_2FA = True
    person("hal-privileged", role)
    client = Client()
    sign_in(client, "hal-privileged")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/?next=%2F"

    page = client.get("/account/two-factor/?next=%2F")
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b"otpauth://totp/" in page.content

    device = TOTPDevice.objects.get(user__username="hal-privileged")
    assert not device.confirmed
    confirmed = client.post(
        "/account/two-factor/", {"token": totp_code(device), "next": "/"}
    )
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/"
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert len(events("auth.otp_enrolled")) == 1


def test_staff_needs_no_second_factor(person, settings):
    settings.REQUIRE_2FA = True
    person("ida-staff")
    client = Client()
    sign_in(client, "ida-staff")
    assert client.get("/").status_code == 200


def test_second_factor_off_by_default_in_tests(person, settings):
    assert settings.REQUIRE_2FA is False
    person("jo-reviewer", Role.REVIEWER)
    client = Client()
    sign_in(client, "jo-reviewer")
    assert client.get("/").status_code == 200


def enrolled(username: str) -> TOTPDevice:
    user = User.objects.get(username=username)
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def test_verification_after_password(person, settings):
    settings.REQUIRE_2FA = True
    person("kai-reviewer", Role.REVIEWER)
    device = enrolled("kai-reviewer")
    client = Client()
    sign_in(client, "kai-reviewer")
    response = client.get("/jobs/")
    assert response["Location"] == "/login/verify/?next=%2Fjobs%2F"

    # An enrolled user cannot replace the device before verifying.
    assert client.get("/account/two-factor/")["Location"] == "/login/verify/"

    wrong = client.post("/login/verify/", {"token": "000000", "next": "/jobs/"})
    assert wrong.status_code == 200
    assert b"The code is wrong or expired" in wrong.content
    assert len(events("auth.otp_failed")) == 1

    # django-otp makes the next try wait 1 s after one failure.
    time.sleep(1.1)
    right = client.post(
        "/login/verify/", {"token": totp_code(device), "next": "/jobs/"}
    )
    assert right["Location"] == "/jobs/"
    assert client.get("/jobs/").status_code == 200


def test_verification_ignores_foreign_next(person, settings):
    settings.REQUIRE_2FA = True
    person("lu-auditor", Role.AUDITOR)
    device = enrolled("lu-auditor")
    client = Client()
    sign_in(client, "lu-auditor")
    response = client.post(
        "/login/verify/",
        {"token": totp_code(device), "next": "https://elsewhere.example/"},
    )
    assert response["Location"] == "/"


def test_unverified_session_blocked_from_api_and_audit(person, settings):
    settings.REQUIRE_2FA = True
    person("mo-auditor", Role.AUDITOR)
    enrolled("mo-auditor")
    client = Client()
    sign_in(client, "mo-auditor")
    api = client.get("/api/v1/jobs")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "second_factor_required"
    models = client.get("/v1/models")
    assert models.status_code == 403
    assert models.json()["error"]["code"] == "second_factor_required"
    audit = client.get("/audit/")
    assert audit["Location"] == "/login/verify/?next=%2Faudit%2F"


def test_service_account_gets_no_page(roles):
    from appliance.accounts.services import create_user

    create_user(
        "svc-portal", roles=[Role.STAFF], password=PASSWORD, service_account=True
    )
    client = Client()
    sign_in(client, "svc-portal")
    response = client.get("/")
    assert response.status_code == 403
    assert len(events("access.denied")) == 1
