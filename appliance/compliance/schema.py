"""JSON schema of a compliance verdict, as stored and as the API returns it.

Other workloads (escalation) read this shape, so fields are only ever
added, never renamed or removed.
"""

from __future__ import annotations

from typing import Any

FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rule_id": {"type": "string"},
        "rulebook_version": {"type": "string"},
        "title": {"type": "string"},
        "severity": {"enum": ["low", "medium", "high"]},
        "status": {"enum": ["fail", "needs_review"]},
        "source": {"enum": ["pattern", "model"]},
        "strength": {"enum": ["strong", "weak", None]},
        # Character offsets into the original (unredacted) text.
        "start": {"type": ["integer", "null"], "minimum": 0},
        "end": {"type": ["integer", "null"], "minimum": 0},
        "evidence": {"type": ["string", "null"]},
        "explanation": {"type": "string"},
        # The engine's token probability that the rule is broken.
        "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    },
    "required": [
        "rule_id",
        "rulebook_version",
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
            "properties": {
                "id": {"type": "string"},
                "version": {"type": "string"},
                "content_hash": {"type": "string"},
            },
            "required": ["id", "version"],
        },
        "rules_checked": {"type": "array", "items": {"type": "string"}},
        "findings": {"type": "array", "items": FINDING_SCHEMA},
        "model": {
            "type": "object",
            "properties": {
                "engine": {"type": "string"},
                "model": {"type": "string"},
                "model_version": {"type": "string"},
                "engine_model": {"type": "string"},
                "prompt_hash": {"type": "string"},
                "rules_asked": {"type": "array", "items": {"type": "string"}},
                "schema_hash": {"type": "string"},
                "calls": {"type": "integer"},
                "prompt_tokens": {"type": "integer"},
                "completion_tokens": {"type": "integer"},
                "latency_ms": {"type": "integer"},
            },
            "required": ["engine", "model", "calls"],
        },
        "redaction": {"type": "object"},
        "suggest_escalation": {"type": "boolean"},
        "checked_at": {"type": "string"},
    },
    "required": ["verdict", "rulebook", "findings", "model", "checked_at"],
}
