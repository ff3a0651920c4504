"""Production mode: every connection and key is configured explicitly, and
``manage.py check --deploy --fail-level WARNING`` passes.

Required: APPLIANCE_SECRET_KEY, APPLIANCE_DATABASE_URL, APPLIANCE_BROKER_URL,
APPLIANCE_DATA_KEY (each may be given as a ``_FILE`` path instead).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from appliance.settings.base import *  # noqa: F403
from appliance.settings.base import (
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

CELERY_BROKER_URL = BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = f"{QUEUE_PREFIX}default"
CELERY_TASK_ROUTES = task_routes(QUEUE_PREFIX)
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(BROKER_URL)
