"""Searching the raw tables of the test database for a value."""

from __future__ import annotations

from django.db import connection


def raw_rows_containing(needle: str) -> list[str]:
    """Tables whose rows, read as text or as bytes, contain ``needle``."""
    hex_needle = needle.encode().hex()
    hits = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t '
                "WHERE position(%s in t::text) > 0 OR position(%s in t::text) > 0",
                [needle, hex_needle],
            )
            if cursor.fetchone()[0]:
                hits.append(table)
    return hits
