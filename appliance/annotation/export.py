"""Batch results as JSON Lines (one object per file, the whole annotation)
or CSV (one row per file, the main fields)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from appliance.annotation import batches
from appliance.annotation.models import Batch
from appliance.annotation.services import result_for
from appliance.audit.services import Actor

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = [
    "position",
    "filename",
    "job_id",
    "state",
    "reason",
    "document_type",
    "classification",
    "retention",
    "language",
    "tags",
    "pii_total",
    "pii",
    "summary",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def records(batch: Batch, requester: Actor) -> Iterator[dict[str, Any]]:
    """One record per file, in upload order; ``result`` is None for a file
    that failed or is not finished."""
    for item in batches.items(batch):
        job = item.job
        yield {
            "position": item.position,
            "filename": batches.filename(item),
            "job_id": str(job.id),
            "state": job.state,
            "reason": job.reason or None,
            "result": result_for(job, requester),
        }


def to_jsonl(batch: Batch, requester: Actor) -> str:
    return "".join(
        json.dumps(record, ensure_ascii=False) + "\n"
        for record in records(batch, requester)
    )


def to_csv(batch: Batch, requester: Actor) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for record in records(batch, requester):
        writer.writerow({key: _cell(value) for key, value in _row(record).items()})
    return out.getvalue()


def _row(record: dict[str, Any]) -> dict[str, Any]:
    result = record["result"] or {}
    return {
        "position": record["position"],
        "filename": record["filename"],
        "job_id": record["job_id"],
        "state": record["state"],
        "reason": record["reason"] or "",
        "document_type": result.get("document_type", ""),
        "classification": result.get("classification", ""),
        "retention": result.get("retention", ""),
        "language": result.get("language", ""),
        "tags": ";".join(result.get("tags", [])),
        "pii_total": result.get("pii_total", ""),
        "pii": json.dumps(result["pii"], sort_keys=True) if result else "",
        "summary": result.get("summary", ""),
    }


def _cell(value: Any) -> Any:
    """Quote text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
