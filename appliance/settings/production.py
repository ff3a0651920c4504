"""Production mode: every connection and key is configured explicitly, and
``manage.py check --deploy --fail-level WARNING`` passes.

Required: APPLIANCE_SECRET_KEY, APPLIANCE_DATABASE_URL, APPLIANCE_BROKER_URL,
APPLIANCE_DATA_KEY (each may be given as a ``_FILE`` path instead), and for
the audit log APPLIANCE_AUDIT_SIGNING_KEY_FILE, APPLIANCE_AUDIT_PUBLIC_KEY_FILES,
APPLIANCE_AUDIT_SINK_DIR and a key-encryption key (APPLIANCE_AUDIT_KEK, or
Vault's address and token with APPLIANCE_AUDIT_KEK_PROVIDER=vault).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from appliance.settings.base import *  # noqa: F403
from appliance.settings.base import (
    AUDIT_KEK,
    AUDIT_KEK_PROVIDER,
    AUDIT_PUBLIC_KEY_FILES,
    AUDIT_SIGNING_KEY_FILE,
    AUDIT_SINK_DIR,
    AUDIT_VAULT_ADDR,
    AUDIT_VAULT_TOKEN,
    BROKER_URL,
    DATA_KEY,
    QUEUE_PREFIX,
    add_audit_database,
    broker_transport_options,
    task_routes,
)
from appliance.settings.env import env

APPLIANCE_MODE = "production"
QUICKSTART_NOTICES: list[str] = []

SECRET_KEY = env.get_str("SECRET_KEY", secret=True)
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "APPLIANCE_SECRET_KEY is too short or too repetitive. Generate one with: "
        'python -c "import secrets; print(secrets.token_urlsafe(64))"'
    )

DATABASES = {"default": env.get_database("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.get_int(
    "DATABASE_CONN_MAX_AGE", 60, minimum=0, unit="seconds"
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

add_audit_database(DATABASES)

if BROKER_URL is None:
    raise ImproperlyConfigured(
        "APPLIANCE_BROKER_URL is required in production, for example "
        "amqp://appliance:PASSWORD@broker.internal:5672/appliance."
    )
if DATA_KEY is None:
    raise ImproperlyConfigured(
        "APPLIANCE_DATA_KEY (or APPLIANCE_DATA_KEY_FILE) is required in "
        "production. Keep the key file outside the database's directory."
    )

if AUDIT_KEK_PROVIDER == "local" and AUDIT_KEK is None:
    raise ImproperlyConfigured(
        "APPLIANCE_AUDIT_KEK (or APPLIANCE_AUDIT_KEK_FILE) is required in "
        "production: 32 random bytes in base64 that wrap the audit log's data "
        "keys. Or set APPLIANCE_AUDIT_KEK_PROVIDER=vault."
    )
if AUDIT_KEK_PROVIDER == "vault" and not (AUDIT_VAULT_ADDR and AUDIT_VAULT_TOKEN):
    raise ImproperlyConfigured(
        "APPLIANCE_AUDIT_KEK_PROVIDER=vault needs APPLIANCE_AUDIT_VAULT_ADDR and "
        "APPLIANCE_AUDIT_VAULT_TOKEN (or APPLIANCE_AUDIT_VAULT_TOKEN_FILE)."
    )
for _name, _value in (
    ("AUDIT_SIGNING_KEY_FILE", AUDIT_SIGNING_KEY_FILE),
    ("AUDIT_PUBLIC_KEY_FILES", AUDIT_PUBLIC_KEY_FILES),
    ("AUDIT_SINK_DIR", AUDIT_SINK_DIR),
):
    if not _value:
        raise ImproperlyConfigured(
            f"APPLIANCE_{_name} is required in production. See docs/audit.md: "
            "the signing key is readable by the sequencer only, and the sink "
            "is a directory on a volume the database server cannot write."
        )

# The appliance sits behind the TLS-terminating proxy in deploy/nginx.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.get_bool("SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env.get_int("HSTS_SECONDS", 31_536_000, minimum=0, unit="seconds")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.get_bool("HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

# Reviewers, approvers, auditors and administrators need a second factor
# unless APPLIANCE_REQUIRE_2FA=false.
REQUIRE_2FA = env.get_bool("REQUIRE_2FA", True)

CELERY_BROKER_URL = BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = f"{QUEUE_PREFIX}default"
CELERY_TASK_ROUTES = task_routes(QUEUE_PREFIX)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(BROKER_URL)
