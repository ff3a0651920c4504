"""Quick-start mode: one machine, nothing configured, nothing to install but
the Python packages.

Whatever is not set in the environment is provided here: an embedded
PostgreSQL under ``var/postgres``, generated keys under ``var/keys``, and the
first local broker that accepts a connection. Each default taken is listed in
``QUICKSTART_NOTICES`` and logged when Django starts, so nobody mistakes this
mode for a production set-up.
"""

from __future__ import annotations

import base64

from appliance import embedded
from appliance.settings.base import *  # noqa: F403
from appliance.settings.base import (
    AUDIT_KEK,
    AUDIT_KEK_PROVIDER,
    AUDIT_PUBLIC_KEY_FILES,
    AUDIT_SIGNING_KEY_FILE,
    AUDIT_SINK_DIR,
    BROKER_URL,
    DATA_KEY,
    QUEUE_PREFIX,
    STATIC_ROOT,
    VAR_DIR,
    add_audit_database,
    broker_transport_options,
    task_routes,
)
from appliance.settings.env import env

APPLIANCE_MODE = "quickstart"
QUICKSTART_NOTICES: list[str] = []

if env.is_set("DATABASE_URL"):
    DATABASES = {"default": env.get_database("DATABASE_URL")}
    _database_url = env.get_str("DATABASE_URL", secret=True)
else:
    _database_url = embedded.start_postgres(VAR_DIR / "postgres")
    DATABASES = {"default": embedded.socket_url_to_django(_database_url)}
    QUICKSTART_NOTICES.append(
        f"using the embedded PostgreSQL in {VAR_DIR / 'postgres'} "
        "(set APPLIANCE_DATABASE_URL to use your own server)"
    )

add_audit_database(DATABASES)

if env.is_set("SECRET_KEY"):
    SECRET_KEY = env.get_str("SECRET_KEY", secret=True)
else:
    SECRET_KEY = base64.b64encode(
        embedded.read_or_create_secret(VAR_DIR / "keys" / "django_secret_key", 48)
    ).decode()
    QUICKSTART_NOTICES.append(f"using a generated secret key in {VAR_DIR / 'keys'}")

if DATA_KEY is None:
    DATA_KEY = embedded.read_or_create_secret(VAR_DIR / "keys" / "data_key")
    QUICKSTART_NOTICES.append(
        f"using a generated data encryption key in {VAR_DIR / 'keys'} "
        "(back it up: job payloads cannot be read without it)"
    )

if AUDIT_KEK is None and AUDIT_KEK_PROVIDER == "local":
    AUDIT_KEK = embedded.read_or_create_secret(VAR_DIR / "keys" / "audit_kek")
    QUICKSTART_NOTICES.append(
        f"using a generated audit key-encryption key in {VAR_DIR / 'keys'}"
    )
if AUDIT_SIGNING_KEY_FILE is None:
    AUDIT_SIGNING_KEY_FILE, _public = embedded.audit_signing_key(VAR_DIR / "keys")
    AUDIT_PUBLIC_KEY_FILES = [*AUDIT_PUBLIC_KEY_FILES, _public]
    QUICKSTART_NOTICES.append(
        f"using a generated audit checkpoint signing key in {VAR_DIR / 'keys'}"
    )
if AUDIT_SINK_DIR is None:
    AUDIT_SINK_DIR = str(VAR_DIR / "audit-checkpoints")
    QUICKSTART_NOTICES.append(
        f"writing audit checkpoints to {AUDIT_SINK_DIR}, on the same disk as "
        "the database (set APPLIANCE_AUDIT_SINK_DIR to another volume)"
    )

if not env.is_set("QUEUE_PREFIX"):
    # Two quick starts on one machine share its RabbitMQ; without a prefix of
    # their own, one's worker would take and drop the other's messages.
    QUEUE_PREFIX = embedded.queue_prefix(VAR_DIR)

if BROKER_URL is None:
    BROKER_URL = embedded.choose_broker(_database_url)
    QUICKSTART_NOTICES.append(
        f"using the broker {BROKER_URL.split('://')[0]} found on this machine "
        "(set APPLIANCE_BROKER_URL to choose one)"
    )

CELERY_BROKER_URL = BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = f"{QUEUE_PREFIX}default"
CELERY_TASK_ROUTES = task_routes(QUEUE_PREFIX)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(BROKER_URL)

# WhiteNoise warns on every request when the static directory is missing;
# the launcher fills it with collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
