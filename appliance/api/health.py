"""Health checks: the database and the audit log always; with ``deep``, the
broker and every configured engine as well. Each check is bounded by a short
timeout."""

from __future__ import annotations

from typing import Any

import httpx
from celery import current_app
from django.db import connection

from appliance.audit import health as audit_health
from appliance.inference.registry import engines_in_use
from appliance.jobs.models import Workload

TIMEOUT = 2.0


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"down ({type(exc).__name__})"
    return "ok"


def _broker() -> str:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=int(TIMEOUT))
    except Exception as exc:
        return f"down ({type(exc).__name__})"
    return "ok"


def _engine(url: str, api_key: str | None) -> str:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(f"{url}/models", headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return f"down ({type(exc).__name__})"
    return "ok" if response.status_code < 400 else f"down (HTTP {response.status_code})"


def _audit() -> str:
    try:
        return audit_health.check()
    except Exception as exc:
        return f"down ({type(exc).__name__})"


def check(*, deep: bool) -> dict[str, Any]:
    checks = {"database": _database()}
    if checks["database"] == "ok":
        checks["audit"] = _audit()
    if deep:
        checks["broker"] = _broker()
        for name, engine in engines_in_use(list(Workload.values)).items():
            checks[f"engine:{name}"] = _engine(engine.url, engine.api_key)
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}
