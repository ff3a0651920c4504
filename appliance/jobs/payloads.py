"""Sealing and opening a job's payloads.

Each payload is JSON, sealed with the data key and bound to the job id and
the field name, so a value copied into another row or field fails to open.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from appliance import crypto
from appliance.jobs.models import Job

INPUT = "input"
REDACTED = "redacted"
RESULT = "result"


def _aad(job_id: object, field: str) -> bytes:
    return f"job:{job_id}:{field}".encode()


def seal(job_id: object, field: str, value: dict[str, Any]) -> bytes:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return crypto.seal(data, aad=_aad(job_id, field))


def unseal(job_id: object, field: str, blob: bytes | memoryview) -> dict[str, Any]:
    data = crypto.unseal(bytes(blob), aad=_aad(job_id, field))
    value: dict[str, Any] = json.loads(data)
    return value


def read_input(job: Job) -> dict[str, Any]:
    return unseal(job.id, INPUT, job.input_sealed)


def read_file(job: Job) -> bytes | None:
    """The uploaded file sealed with the job's input, if it has one."""
    encoded = read_input(job).get("file")
    return None if encoded is None else base64.b64decode(encoded)


def read_redacted(job: Job) -> dict[str, Any] | None:
    if job.redacted_sealed is None:
        return None
    return unseal(job.id, REDACTED, job.redacted_sealed)


def read_result(job: Job) -> dict[str, Any] | None:
    if job.result_sealed is None:
        return None
    return unseal(job.id, RESULT, job.result_sealed)
