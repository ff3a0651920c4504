"""``record``: the one function every part of the appliance uses to write an
audit event.

An event for an action that commits is written in the action's transaction
(the default connection), so both commit or neither does. An event for a
denial or a failure passes ``durable=True`` and is written on the separate
``audit`` connection in its own transaction, so rolling back the action
cannot take the event away.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.db import transaction

from appliance.audit.models import AuditEvent, Outcome
from appliance.logging import current_context

logger = logging.getLogger(__name__)

AUDIT_DATABASE = "audit"

# Detail values are ids, counts, versions and short codes. A longer string is
# a sign that content is about to be logged, so it is rejected.
MAX_DETAIL_STRING = 200


class Actor(Protocol):
    pk: Any

    def get_username(self) -> str: ...


def record(
    action: str,
    *,
    actor: Actor | None = None,
    object_type: str = "",
    object_id: Any = "",
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
    durable: bool = False,
    client_ip: str | None = None,
) -> AuditEvent:
    """Append one audit event and return it."""
    details = details or {}
    _check_details(details)
    context = current_context()
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "pk", None),
        actor_label=actor.get_username() if actor is not None else "",
        object_type=object_type,
        object_id=str(object_id) if object_id else "",
        outcome=str(outcome),
        request_id=context.get("request_id", ""),
        client_ip=client_ip or context.get("client_ip") or None,
        details=details,
    )
    if durable:
        with transaction.atomic(using=AUDIT_DATABASE):
            event.save(using=AUDIT_DATABASE)
    else:
        event.save()
    return event


def _check_details(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if isinstance(value, dict):
            _check_details(value)
        elif isinstance(value, str) and len(value) > MAX_DETAIL_STRING:
            raise ValueError(
                f"Audit detail {key!r} is a {len(value)}-character string; "
                "audit details hold ids and counts, never content."
            )
