"""Who may read what in the audit log, and revealing encrypted fields.

- ``audit.view_audit_log`` (the auditor role): search the clear fields,
  see the chain status, verify, export bundles. Never the encrypted fields.
- ``audit.reveal_audit_field``: reveal one entry's encrypted fields, stating
  a reason. No role carries it; an administrator grants it per user.
- ``audit.manage_audit_access`` (the admin role): grant and revoke that
  permission, without reading or exporting anything.

Superusers pass every Django permission check, so the console refuses them
outright: the log's content is for auditors' own accounts. Every grant,
revocation and reveal is recorded in the log.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidTag
from django.contrib.auth.models import Permission

from appliance.accounts.models import User
from appliance.audit import datakeys
from appliance.audit.canonical import entry_aad
from appliance.audit.entries import iter_rows, row_entry
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.audit.signals import acting_as

VIEW = "audit.view_audit_log"
REVEAL = "audit.reveal_audit_field"
MANAGE = "audit.manage_audit_access"
MIN_REASON = 10
MAX_REASON = 200


class RevealError(Exception):
    """The fields cannot be revealed; the message says why."""


def can_view(user: Any) -> bool:
    return bool(user.is_authenticated and not user.is_superuser and user.has_perm(VIEW))


def can_reveal(user: Any) -> bool:
    return can_view(user) and bool(user.has_perm(REVEAL))


def can_manage(user: Any) -> bool:
    return bool(
        user.is_authenticated and not user.is_superuser and user.has_perm(MANAGE)
    )


def reveal_permission() -> Permission:
    app_label, codename = REVEAL.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def set_reveal(admin: User, user: User, *, allowed: bool) -> None:
    """Grant or revoke the reveal permission; the change is recorded by the
    permission signal with ``admin`` as the actor."""
    with acting_as(admin):
        if allowed:
            user.user_permissions.add(reveal_permission())
        else:
            user.user_permissions.remove(reveal_permission())


def reveal(seq: int, user: User, reason: str) -> dict[str, Any]:
    """Decrypt entry ``seq``'s fields for ``user``, recording the reveal and
    its reason first; a reveal that fails is recorded too."""
    reason = " ".join(reason.split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise RevealError(f"State a reason of {MIN_REASON} to {MAX_REASON} characters.")
    rows = list(iter_rows(seq, seq + 1))
    if not rows:
        raise RevealError(f"Entry {seq} does not exist.")
    entry = row_entry(datakeys.log_id(), rows[0])
    details = {"reason": reason, "key_scope": entry.key_scope}
    try:
        plaintext = datakeys.decrypt(
            entry.key_scope, entry.key_version, entry.ciphertext, entry_aad(entry)
        )
    except (datakeys.KeyDestroyed, datakeys.KeyMissing) as exc:
        _record_reveal(user, seq, Outcome.FAILURE, {**details, "error": "key"})
        raise RevealError(
            f"Entry {seq} cannot be read: its data key was destroyed or is missing."
        ) from exc
    except InvalidTag:
        _record_reveal(user, seq, Outcome.FAILURE, {**details, "error": "tag"})
        raise RevealError(
            f"Entry {seq} failed authentication: its fields were altered after "
            "they were written."
        ) from None
    _record_reveal(user, seq, Outcome.SUCCESS, details)
    fields: dict[str, Any] = json.loads(plaintext)
    return fields


def _record_reveal(user: User, seq: int, outcome: str, details: dict[str, Any]) -> None:
    record(
        "audit.revealed",
        actor=user,
        object_type="audit_entry",
        object_id=seq,
        outcome=outcome,
        details=details,
        durable=True,
    )
