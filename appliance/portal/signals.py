"""Audit events for django-axes lockouts. Connected in ``PortalConfig.ready``."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings

from appliance.accounts.models import User
from appliance.audit.models import Outcome
from appliance.audit.services import record

MAX_USERNAME = 150


def on_locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str | None, **_: Any
) -> None:
    """Record a lockout on the audit connection, so that it survives the
    rolled-back sign-in. The name tried stays in the encrypted details."""
    user = User.objects.filter(username=username).first() if username else None
    record(
        "auth.locked_out",
        actor=user,
        object_type="user",
        object_id=user.pk if user is not None else "",
        outcome=Outcome.DENIED,
        details={
            "username": (username or "")[:MAX_USERNAME],
            "failure_limit": settings.LOGIN_FAILURE_LIMIT,
            "lockout_seconds": settings.LOGIN_LOCKOUT_SECONDS,
        },
        client_ip=ip_address,
        durable=True,
    )


def connect() -> None:
    user_locked_out.connect(on_locked_out, dispatch_uid="portal.locked_out")
