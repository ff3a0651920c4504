"""JSON schema of a compliance verdict, as stored and as the API returns it."""

from __future__ import annotations

from typing import Any

FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rule_id": {"type": "string"},
        "title": {"type": "string"},
        "severity": {"enum": ["low", "medium", "high"]},
        "status": {"enum": ["fail", "needs_review"]},
        "source": {"enum": ["pattern", "model"]},
        "start": {"type": ["integer", "null"], "minimum": 0},
        "end": {"type": ["integer", "null"], "minimum": 0},
        "evidence": {"type": ["string", "null"]},
        "explanation": {"type": "string"},
        "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    },
    "required": [
        "rule_id",
        "severity",
        "status",
        "source",
        "start",
        "end",
        "explanation",
        "confidence",
    ],
}

VERDICT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "verdict": {"enum": ["pass", "fail", "needs_review"]},
        "rulebook": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "version": {"type": "string"}},
            "required": ["id", "version"],
        },
        "findings": {"type": "array", "items": FINDING_SCHEMA},
        "model": {
            "type": "object",
            "properties": {
                "engine": {"type": "string"},
                "model": {"type": "string"},
                "calls": {"type": "integer"},
                "prompt_tokens": {"type": "integer"},
                "completion_tokens": {"type": "integer"},
                "latency_ms": {"type": "integer"},
            },
            "required": ["engine", "model", "calls"],
        },
        "redaction": {"type": "object"},
        "checked_at": {"type": "string"},
    },
    "required": ["verdict", "rulebook", "findings", "model", "checked_at"],
}
