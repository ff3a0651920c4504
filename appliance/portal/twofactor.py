"""The TOTP second factor: who needs it, enrolment and verification.

Devices are django-otp's ``TOTPDevice``. A session counts as verified once
``django_otp.login`` has run for it, which ``SecondFactorMiddleware`` checks.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from appliance.accounts.models import User
from appliance.accounts.roles import Role
from appliance.audit.models import Outcome
from appliance.audit.services import record

# Roles whose accounts can approve, review or read other people's work, or
# change accounts, so a stolen password alone must not be enough for them.
ROLES_NEEDING_2FA = (Role.REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ADMIN)
DEVICE_NAME = "Authenticator app"


def is_required(user: User) -> bool:
    """Whether ``user`` must pass a second factor after the password."""
    if not settings.REQUIRE_2FA or user.is_service_account:
        return False
    if user.is_superuser:
        return True
    names = [role.value for role in ROLES_NEEDING_2FA]
    return user.groups.filter(name__in=names).exists()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    """Return the user's unconfirmed device, creating one with a new key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """Render the device's otpauth URI as an inline SVG QR code."""
    code = segno.make(device.config_url, error="m")
    svg: str = code.svg_inline(
        scale=5, dark="#111", light="#fff", title="QR code of your sign-in key"
    )
    return svg


def confirm(request: HttpRequest, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm a new device with a code from it; the session is verified too."""
    if not device.verify_token(token):
        _record_failure(user, "enrolment")
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record("auth.otp_enrolled", actor=user, object_type="user", object_id=user.pk)
    otp_login(request, device)
    return True


def verify(request: HttpRequest, user: User, token: str) -> bool:
    """Check a code from the user's device and mark the session verified.
    django-otp throttles repeated failures per device."""
    device = confirmed_device(user)
    if device is None or not device.verify_token(token):
        _record_failure(user, "sign_in")
        return False
    otp_login(request, device)
    record("auth.otp_verified", actor=user, object_type="user", object_id=user.pk)
    return True


def _record_failure(user: User, step: str) -> None:
    record(
        "auth.otp_failed",
        actor=user,
        object_type="user",
        object_id=user.pk,
        outcome=Outcome.DENIED,
        details={"step": step},
        durable=True,
    )
