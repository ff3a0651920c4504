"""Roles created by migration, and the account commands."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from appliance.accounts.models import ApiKey, User
from appliance.accounts.roles import ROLE_PERMISSIONS, Role
from appliance.accounts.services import find_api_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_role_has_its_permissions(roles):
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        granted = {
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
        }
        assert granted == set(names), role


def test_admin_role_grants_admin_site(make_user):
    admin = make_user(Role.ADMIN)
    assert admin.is_staff
    assert not admin.has_perm("jobs.submit_job")


def test_create_user_command(roles, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-passphrase\n"))
    call_command(
        "create_user",
        "dana",
        "--role",
        "reviewer",
        "--team",
        "Marketing",
        "--password-stdin",
        stdout=io.StringIO(),
    )
    dana = User.objects.get(username="dana")
    assert dana.role_names() == ["reviewer"]
    assert dana.team is not None and dana.team.name == "Marketing"
    assert dana.check_password("a-long-enough-passphrase")


def test_create_user_rejects_weak_password(roles, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("create_user", "weak", "--role", "staff", "--password-stdin")


def test_api_key_issue_and_revoke(make_user):
    user = make_user(Role.STAFF)
    out = io.StringIO()
    call_command("api_key", "issue", user.username, "--name", "crm", stdout=out)
    plaintext = out.getvalue().strip()
    assert find_api_key(plaintext) is not None
    call_command("api_key", "revoke", plaintext, stdout=io.StringIO())
    assert find_api_key(plaintext) is None


def test_quickstart_accounts_prints_key_once(roles):
    first = json.loads(_quickstart())
    second = json.loads(_quickstart())
    assert first["admin_password"]
    assert second["admin_password"] is None
    assert find_api_key(first["api_key"]) is None
    assert find_api_key(second["api_key"]) is not None
    assert ApiKey.objects.active().filter(user__username="operator").count() == 1


def _quickstart() -> str:
    out = io.StringIO()
    call_command("quickstart_accounts", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "crm", "--days", "0"], "--days must be 1 or more"),
        (["--name", "crm", "--days", "-1"], "--days must be 1 or more"),
        (["--name", "x" * 121], "--name must be 1 to 120 characters"),
        (["--name", "   "], "--name must be 1 to 120 characters"),
    ],
)
def test_api_key_issue_rejects_bad_options(make_user, args, message):
    user = make_user(Role.STAFF)
    with pytest.raises(CommandError, match=message):
        call_command("api_key", "issue", user.username, *args, stdout=io.StringIO())
    assert not ApiKey.objects.exists()
