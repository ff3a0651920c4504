"""manage.py redact: text, JSON and JSON lines from standard input."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

TEXT = "Dear Maria Lopez,\nyour SSN 536-22-8190 is on file.\n"


def run(monkeypatch, stdin: str, *args: str) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("redact", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_command_prints_redacted_text(fresh_engines, monkeypatch):
    output = run(monkeypatch, TEXT, "--scope", "cli:t1")

    assert output == "Dear <PERSON_1>,\nyour SSN <US_SSN_1> is on file.\n"


@pytest.mark.django_db
def test_command_json_offsets_point_into_input(fresh_engines, monkeypatch):
    result = json.loads(run(monkeypatch, TEXT, "--json"))

    assert result["text"] == "Dear <PERSON_1>,\nyour SSN <US_SSN_1> is on file.\n"
    spans = [(e["type"], TEXT[e["start"] : e["end"]]) for e in result["entities"]]
    assert spans == [("PERSON", "Maria Lopez"), ("US_SSN", "536-22-8190")]
    assert set(result["entities"][0]) == {"type", "start", "end", "score", "recognizer"}


@pytest.mark.django_db
def test_command_jsonl_keeps_order_and_reports_bad_lines(fresh_engines, monkeypatch):
    lines = "\n".join(
        [
            json.dumps({"id": "a", "text": "Email maria.lopez@example.com"}),
            "not json",
            json.dumps({"id": "b", "text": "maria.lopez@example.com again"}),
        ]
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 line"):
        call_command("redact", "--jsonl", "--scope", "cli:t3", stdout=out)

    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r.get("id") for r in results] == ["a", None, "b"]
    assert results[0]["text"] == "Email <EMAIL_ADDRESS_1>"
    assert results[1]["error"] == "The line is not valid JSON."
    assert results[2]["text"] == "<EMAIL_ADDRESS_1> again"
