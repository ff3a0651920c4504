"""Test mode: the quick-start defaults under ``var/test`` with short timings,
so that retries, leases and the sweeper can be observed within a test run.

APPLIANCE_DATABASE_URL may point at a PostgreSQL server with pgvector instead
of the embedded one; pytest-django creates its ``test_`` database there.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("APPLIANCE_VAR_DIR", str(_ROOT / "var" / "test"))
# Queues of their own per test run, so that messages left by an earlier run
# never reach this run's workers. Workers started by the tests inherit it.
os.environ.setdefault("APPLIANCE_QUEUE_PREFIX", f"test{os.getpid()}.")
os.environ.setdefault("APPLIANCE_ENGINE_RETRY_WINDOW", "6")
os.environ.setdefault("APPLIANCE_ENGINE_RETRY_BACKOFF", "0.5")
os.environ.setdefault("APPLIANCE_ENGINE_RETRY_BACKOFF_MAX", "2")
os.environ.setdefault("APPLIANCE_ENGINE_TIMEOUT", "120")
os.environ.setdefault("APPLIANCE_ENGINE_MAX_TOKENS", "256")
# Keeps OpenAI-compatible chat answers, and the schema fuzz, short.
os.environ.setdefault("APPLIANCE_CHAT_MAX_TOKENS", "64")

from appliance.settings.quickstart import *  # noqa: E402, F403

APPLIANCE_MODE = "test"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Lets the test runner empty the append-only audit tables between tests (see
# the audit app's migration 0005); no other mode sets it.
for _alias in ("default", "audit"):
    DATABASES[_alias] = {  # noqa: F405
        **DATABASES[_alias],  # noqa: F405
        "OPTIONS": {
            **DATABASES[_alias].get("OPTIONS", {}),  # noqa: F405
            "options": "-c appliance.audit_allow_truncate=on",
        },
    }
