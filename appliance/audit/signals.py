"""Audit events for what Django itself does: sign-ins and their failures,
sign-outs, and changes to a user's permissions and roles, however they are
made. Connected in ``AuditConfig.ready``.

The admin console records its own changes, with the fields changed. The
permissions of each role are code (accounts/roles.py), synchronized by every
migrate, so changes to them arrive with a release and are not recorded here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import m2m_changed

from appliance.audit.models import Outcome

# The user on whose behalf a permission change is made (set by services that
# change permissions for an administrator, read by the signal handlers).
_acting: ContextVar[Any] = ContextVar("audit_acting_user", default=None)

MAX_USERNAME = 150


@contextlib.contextmanager
def acting_as(user: Any) -> Iterator[None]:
    token = _acting.set(user)
    try:
        yield
    finally:
        _acting.reset(token)


def _record(action: str, **kwargs: Any) -> None:
    from appliance.audit.services import record

    record(action, **kwargs)


def _client_ip(request: Any) -> str | None:
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record(
        "auth.login",
        actor=user,
        object_type="user",
        object_id=user.pk,
        client_ip=_client_ip(request),
    )


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    _record(
        "auth.logout",
        actor=user,
        object_type="user",
        object_id=user.pk,
        client_ip=_client_ip(request),
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The name tried is kept in the encrypted details: it may be a person's.
    username = str(credentials.get("username", ""))[:MAX_USERNAME]
    _record(
        "auth.login_failed",
        outcome=Outcome.DENIED,
        object_type="user",
        details={"username": username},
        client_ip=_client_ip(request),
        durable=True,
    )


_VERBS = {"post_add": "granted", "post_remove": "revoked", "post_clear": "cleared"}


def on_user_permissions(
    sender: Any, instance: Any, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action in _VERBS and isinstance(instance, get_user_model()):
        names = _permission_names(sorted(pk_set or ()))
        _user_event("permission", instance, _VERBS[action], names)


def on_user_groups(
    sender: Any, instance: Any, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action in _VERBS and isinstance(instance, get_user_model()):
        names = _group_names(sorted(pk_set or ()))
        _user_event("role", instance, _VERBS[action], names)


def _user_event(kind: str, user: Any, verb: str, names: str) -> None:
    _record(
        f"{kind}.{verb}",
        actor=_acting.get(),
        object_type="user",
        object_id=user.pk,
        details={"names": names},
    )


def _permission_names(ids: list[int]) -> str:
    from django.contrib.auth.models import Permission

    names = Permission.objects.filter(pk__in=ids).values_list(
        "content_type__app_label", "codename"
    )
    return ",".join(sorted(f"{app}.{code}" for app, code in names))[:200]


def _group_names(ids: list[int]) -> str:
    return ",".join(
        sorted(Group.objects.filter(pk__in=ids).values_list("name", flat=True))
    )[:200]


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(on_login, dispatch_uid="audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
    m2m_changed.connect(
        on_user_permissions,
        sender=user_model.user_permissions.through,
        dispatch_uid="audit.user_permissions",
    )
    m2m_changed.connect(
        on_user_groups,
        sender=user_model.groups.through,
        dispatch_uid="audit.user_groups",
    )
