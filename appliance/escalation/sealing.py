"""Sealing an escalation's payloads with the data key (AES-GCM).

Each value is bound to its request id and field name as associated data,
so a value copied into another row or field fails to open.
"""

from __future__ import annotations

from appliance import crypto

BODY = "body"
ANSWER = "answer"


def _aad(request_id: object, field: str) -> bytes:
    return f"escalation:{request_id}:{field}".encode()


def seal(request_id: object, field: str, data: bytes) -> bytes:
    return crypto.seal(data, aad=_aad(request_id, field))


def unseal(request_id: object, field: str, blob: bytes | memoryview) -> bytes:
    return crypto.unseal(bytes(blob), aad=_aad(request_id, field))


def approval_field(approver_id: object) -> str:
    return f"approval-reason:{approver_id}"
