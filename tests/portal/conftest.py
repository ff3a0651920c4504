"""Shared helpers for the portal's tests: accounts with a password, and
TOTP codes computed from a device's key as an authenticator app would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from appliance.accounts.models import User
from appliance.accounts.roles import Role
from appliance.accounts.services import create_user

# The escalation tests' fixtures: a stand-in external provider and its users.
from tests.escalation.conftest import people, provider

# The HR tests' fixture that adds and indexes a policy.
from tests.hr.conftest import add_policy

__all__ = ["add_policy", "people", "provider"]

PASSWORD = "a long portal test password"


@pytest.fixture
def person(roles: None) -> Callable[..., User]:
    """Create a user who signs in with PASSWORD."""

    def make(username: str, role: Role = Role.STAFF) -> User:
        return create_user(username, roles=[role], password=PASSWORD)

    return make


def totp_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)
