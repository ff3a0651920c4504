"""``record``: the one function every part of the appliance uses to write an
audit event.

An event for an action that commits is written in the action's transaction
(the default connection), so both commit or neither does. An event for a
denial or a failure passes ``durable=True`` and is written on the separate
``audit`` connection in its own transaction, so rolling back the action
cannot take the event away.

The event lands in the pending table (``AuditEvent``); the sequencer gives it
its place in the Merkle tree within APPLIANCE_AUDIT_SEQUENCER_INTERVAL
seconds of the commit. The actor's name, the client address and ``details``
are encrypted with AES-256-GCM; everything else stays searchable in clear and
is bound to the ciphertext as associated data.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, Protocol

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.utils import timezone

from appliance.audit import datakeys
from appliance.audit.canonical import encode_aad, to_micros
from appliance.audit.models import AuditEvent, Outcome
from appliance.logging import current_context

logger = logging.getLogger(__name__)

AUDIT_DATABASE = datakeys.AUDIT_DATABASE
DEFAULT_DATABASE = "default"
INSERT_SQL = """
INSERT INTO audit_event (event_id, occurred_at, actor_id, action, object_type,
    object_id, outcome, request_id, key_scope, key_version, ciphertext)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id, txid
"""

# Detail values are ids, counts, versions and short codes. A longer string is
# a sign that content is about to be logged, so it is rejected.
MAX_DETAIL_STRING = 200
MAX_FIELD = 64
# Actions and object types are names chosen in code, never input.
_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_OBJECT_TYPE = re.compile(r"^[a-z0-9_.:-]{0,64}$")


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
    _check_names(action, object_type, str(outcome))
    _check_details(details)
    context = current_context()
    actor_id = getattr(actor, "pk", None)
    sensitive = {
        "actor": actor.get_username() if actor is not None else "",
        "client_ip": client_ip or context.get("client_ip") or "",
        "details": details,
    }
    event = AuditEvent(
        event_id=uuid.uuid4(),
        occurred_at=timezone.now(),
        actor_id=int(actor_id) if actor_id is not None else None,
        action=action,
        object_type=object_type,
        object_id=_text(object_id),
        outcome=str(outcome),
        request_id=_text(context.get("request_id", "")),
    )
    _seal(event, sensitive)
    if durable:
        with transaction.atomic(using=AUDIT_DATABASE):
            _insert(event, AUDIT_DATABASE)
    else:
        _insert(event, DEFAULT_DATABASE)
    return event


def _insert(event: AuditEvent, using: str) -> None:
    """INSERT the row as a prepared statement bound on the server: the ORM's
    save() took about five times as long, most of the audit write's cost.
    Runs on the alias's connection, so it joins the transaction open there."""
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    params = (
        event.event_id,
        event.occurred_at,
        event.actor_id,
        event.action,
        event.object_type,
        event.object_id,
        event.outcome,
        event.request_id,
        event.key_scope,
        event.key_version,
        event.ciphertext,
    )
    with transaction.mark_for_rollback_on_error(using), psycopg.Cursor(raw) as cursor:
        cursor.execute(INSERT_SQL, params, prepare=True)
        row = cursor.fetchone()
    assert row is not None
    event.id, event.txid = row
    event._state.adding = False
    event._state.db = using


def _seal(event: AuditEvent, sensitive: dict[str, Any]) -> None:
    log_id = datakeys.log_id()
    scope = datakeys.scope_for(event.occurred_at, event.actor_id)
    plaintext = json.dumps(
        sensitive, separators=(",", ":"), sort_keys=True, cls=DjangoJSONEncoder
    ).encode()

    def aad_for(version: int) -> bytes:
        return encode_aad(
            log_id=log_id,
            event_id=event.event_id.bytes,
            occurred_us=to_micros(event.occurred_at),
            actor_id=event.actor_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            outcome=event.outcome,
            request_id=event.request_id,
            key_scope=scope,
            key_version=version,
        )

    sealed = datakeys.encrypt(scope, plaintext, aad_for)
    event.key_scope = scope
    event.key_version = sealed.version
    event.ciphertext = sealed.ciphertext


def read_fields(event: AuditEvent) -> dict[str, Any]:
    """Decrypt a pending event's sensitive fields: ``actor`` (the name),
    ``client_ip`` and ``details``. Not recorded in the log: people read
    entries through the console's reveal, which is."""
    aad = encode_aad(
        log_id=datakeys.log_id(),
        event_id=event.event_id.bytes,
        occurred_us=to_micros(event.occurred_at),
        actor_id=event.actor_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        outcome=event.outcome,
        request_id=event.request_id,
        key_scope=event.key_scope,
        key_version=event.key_version,
    )
    plaintext = datakeys.decrypt(
        event.key_scope, event.key_version, bytes(event.ciphertext), aad
    )
    fields: dict[str, Any] = json.loads(plaintext)
    return fields


def _text(value: Any) -> str:
    """Return a clear field as given, cut to the column's size. PostgreSQL
    text cannot contain NUL, so NUL becomes U+FFFD. Every other character is
    kept: the length-prefixed leaf encoding and HTML escaping keep it inert."""
    if not value:
        return ""
    return str(value)[:MAX_FIELD].replace("\x00", "\ufffd")


def _check_names(action: str, object_type: str, outcome: str) -> None:
    if not _NAME.match(action):
        raise ValueError(f"audit action {action!r} is not a dotted lower-case name")
    if not _OBJECT_TYPE.match(object_type):
        raise ValueError(f"audit object type {object_type!r} is not a plain name")
    if outcome not in Outcome.values:
        raise ValueError(f"audit outcome {outcome!r} is not one of {Outcome.values}")


def _check_details(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if isinstance(value, dict):
            _check_details(value)
        elif isinstance(value, str) and len(value) > MAX_DETAIL_STRING:
            raise ValueError(
                f"Audit detail {key!r} is a {len(value)}-character string; "
                "audit details hold ids and counts, never content."
            )
