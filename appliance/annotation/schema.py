"""JSON schema of an annotation, as stored and as the API returns it.

Type, tag and retention ids are strings here; ``result_schema`` narrows them
to the ids of one taxonomy.
"""

from __future__ import annotations

import copy
from typing import Any

from appliance.annotation.taxonomy import LEVELS, Taxonomy

ANNOTATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "document_type": {"type": "string"},
        "document_type_source": {"enum": ["format", "rules", "model", "none"]},
        # At most 300 characters as stored; putting names back for the owner
        # can make it longer.
        "summary": {"type": "string", "minLength": 1},
        "summary_source": {"enum": ["model", "extract"]},
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "uniqueItems": True,
        },
        "tag_sources": {
            "type": "object",
            "additionalProperties": {"enum": ["rules", "model"]},
        },
        "classification": {"enum": list(LEVELS)},
        "classification_reasons": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
        },
        "pii": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
        "pii_total": {"type": "integer", "minimum": 0},
        "retention": {"type": "string"},
        "language": {"type": "string", "pattern": "^([a-z]{2,3})$"},
        "language_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "file": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "content_type": {"type": "string"},
                "bytes": {"type": "integer", "minimum": 0},
                "pages": {"type": ["integer", "null"], "minimum": 0},
                "chars": {"type": "integer", "minimum": 0},
                "ocr": {"type": "boolean"},
                "attachments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "content_type": {"type": ["string", "null"]},
                            "error": {"type": ["string", "null"]},
                        },
                        "required": ["name", "content_type", "error"],
                    },
                },
            },
            "required": ["name", "content_type", "bytes", "chars", "attachments"],
        },
        "taxonomy": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "version": {"type": "string"}},
            "required": ["id", "version"],
        },
        "model": {
            "type": "object",
            "properties": {
                "engine": {"type": "string"},
                "model": {"type": "string"},
                "calls": {"type": "integer", "minimum": 0},
                "prompt_tokens": {"type": "integer"},
                "completion_tokens": {"type": "integer"},
                "latency_ms": {"type": "integer"},
                "fallback": {"type": ["string", "null"]},
            },
            "required": ["engine", "model", "calls", "fallback"],
        },
        "timings_ms": {
            "type": "object",
            "properties": {
                "extraction": {"type": "integer", "minimum": 0},
                "redaction": {"type": "integer", "minimum": 0},
                "inference": {"type": "integer", "minimum": 0},
            },
            "required": ["extraction", "redaction", "inference"],
        },
        "annotated_at": {"type": "string"},
    },
    "required": [
        "document_type",
        "document_type_source",
        "summary",
        "summary_source",
        "tags",
        "classification",
        "classification_reasons",
        "pii",
        "pii_total",
        "retention",
        "language",
        "file",
        "taxonomy",
        "model",
        "timings_ms",
        "annotated_at",
    ],
    "additionalProperties": False,
}


def result_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """ANNOTATION_SCHEMA with type, tag and retention ids limited to
    ``taxonomy``'s."""
    schema = copy.deepcopy(ANNOTATION_SCHEMA)
    properties = schema["properties"]
    properties["document_type"] = {"enum": taxonomy.type_ids}
    properties["tags"]["items"] = {"enum": taxonomy.tag_ids}
    properties["retention"] = {"enum": taxonomy.retention_ids}
    return schema
