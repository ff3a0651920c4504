"""Reading sequenced entries from PostgreSQL, fast, in leaf order.

Rows come back in the order of ``canonical.encode_leaf_fields`` (after the
log id) and in PostgreSQL's binary format, with times already converted to
microseconds and UUIDs to their 16 bytes by the server. Nothing the server
returns is trusted: every verifier hashes these values itself, so a server
that returns something else produces a hash that does not match.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connections, transaction

from appliance.audit.canonical import Entry, encode_leaf_fields
from appliance.audit.merkle import leaf_hash

Row = tuple[int, bytes, int, int, int | None, str, str, str, str, str, str, int, bytes]

ROW_COLUMNS = """
    seq,
    uuid_send(event_id),
    (extract(epoch FROM occurred_at) * 1000000)::bigint,
    (extract(epoch FROM sequenced_at) * 1000000)::bigint,
    actor_id, action, object_type, object_id, outcome, request_id,
    key_scope, key_version, ciphertext
"""
CHUNK = 20_000


def iter_rows(
    start: int = 0, end: int | None = None, *, using: str = "default"
) -> Iterator[Row]:
    """Yield the entries with ``start <= seq < end`` in sequence order."""
    sql = f"SELECT {ROW_COLUMNS} FROM audit_log_entry WHERE seq >= %s"  # noqa: S608
    params: list[Any] = [start]
    if end is not None:
        sql += " AND seq < %s"
        params.append(end)
    sql += " ORDER BY seq"
    connection = connections[using]
    with transaction.atomic(using=using):
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        with raw.cursor(name=f"audit_rows_{id(raw)}", binary=True) as cursor:
            cursor.itersize = CHUNK
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK):
                yield from rows


def row_leaf(log_id: bytes, row: Row) -> bytes:
    """The Merkle leaf hash of one row."""
    return leaf_hash(encode_leaf_fields(log_id, *row))


def row_entry(log_id: bytes, row: Row) -> Entry:
    return Entry(log_id, *row)
