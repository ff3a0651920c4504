"""Shared set-up for the annotation benchmarks: the labelled files, built in
their formats from the sample texts, and an owner account and engine to run
them with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.audit_common import ROOT

LABELS = ROOT / "benchmarks" / "data" / "annotation_labels.jsonl"
BENCH_USER = "annotation-bench"


def labels() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line]


def render(entry: dict[str, Any]) -> tuple[str, bytes]:
    """Build a labelled entry's file in its format; return name and bytes."""
    from tests.support import documents

    source = entry["source"]
    text = documents.sample(source)
    stem = Path(source).stem
    kind = entry["format"]
    if kind == "raw":
        return source, (documents.FILES / source).read_bytes()
    if kind == "csv":
        return f"{stem}.csv", text.encode("utf-8")
    if kind == "txt":
        return f"{stem}.txt", text.encode("utf-8")
    if kind == "html":
        return f"{stem}.html", documents.html_of(text, stem.replace("_", " "))
    if kind == "pdf":
        return f"{stem}.pdf", documents.pdf_of(text)
    if kind == "docx":
        return f"{stem}.docx", documents.docx_of(text)
    if kind == "xlsx":
        return f"{stem}.xlsx", documents.xlsx_of(text)
    if kind == "eml":
        memo = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")
        attachment = ("cpm-2020-18.pdf", documents.pdf_of(memo), "application/pdf")
        return f"{stem}.eml", documents.eml_of(text, "Closing notice", [attachment])
    raise ValueError(f"unknown format {kind!r} in {LABELS}")


def owner() -> Any:
    from appliance.accounts.models import User
    from appliance.accounts.roles import Role
    from appliance.accounts.services import create_user, install_roles

    install_roles()
    user = User.objects.filter(username=BENCH_USER).first()
    return user or create_user(BENCH_USER, roles=[Role.STAFF], password=None)


@contextmanager
def engine(start: bool) -> Iterator[str]:
    """Yield the configured engine's URL, or with ``start`` start a llama.cpp
    server with the bundled SmolLM2-135M-Instruct for the run and yield its."""
    from django.conf import settings

    from appliance.inference import registry

    if not start:
        yield str(settings.ENGINE_DEFAULT["url"])
        return
    from tests.support.processes import start_engine

    server = start_engine(name="annotation-bench-engine")
    settings.ENGINE_DEFAULT = {**settings.ENGINE_DEFAULT, "url": server.url}
    registry.reset()
    try:
        yield server.url
    finally:
        server.process.stop()
