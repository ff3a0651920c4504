"""manage.py ingest_policies DIR and manage.py ask "question" --json."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from appliance.accounts.models import Team
from appliance.accounts.roles import Role
from appliance.hr.models import IndexState, PolicyVersion

TRAVEL = "# Travel policy\n\n## Meals\n\nMeals are reimbursed up to $60 per day.\n"
ON_CALL = "# On-call\n\n## Stipend\n\nOn-call engineers receive $300 per week.\n"


def ingest(directory: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("ingest_policies", str(directory), *args, stdout=out)
    return out.getvalue()


def ask(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("ask", *args, "--json", stdout=out)
    answer: dict[str, Any] = json.loads(out.getvalue())
    return answer


def test_ingest_directory(tmp_path, db):
    (tmp_path / "travel.md").write_text(TRAVEL)
    (tmp_path / "travel.md.source.txt").write_text("where it came from")
    output = ingest(tmp_path, "--effective-from", "2024-01-01")
    assert "Travel policy v1 ready" in output
    version = PolicyVersion.objects.get()
    assert version.policy.key == "travel"
    assert version.state == IndexState.READY
    assert version.effective_from.isoformat() == "2024-01-01"
    assert "exists; skipped" in ingest(tmp_path)


def test_ingest_manifest_with_teams(tmp_path, db):
    Team.objects.create(name="Engineering")
    (tmp_path / "on_call.md").write_text(ON_CALL)
    (tmp_path / "policies.yaml").write_text(
        "- file: on_call.md\n  title: On-call pay\n  version: '2026'\n"
        "  effective_from: 2026-01-01\n  teams: [Engineering]\n"
    )
    ingest(tmp_path)
    version = PolicyVersion.objects.get()
    assert version.title == "On-call pay"
    assert version.version == "2026"
    assert version.for_everyone is False
    assert list(version.teams.values_list("name", flat=True)) == ["Engineering"]


def test_ingest_reports_bad_files(tmp_path, db):
    (tmp_path / "empty.md").write_text("   ")
    with pytest.raises(CommandError, match="1 policy documents"):
        ingest(tmp_path)
    assert PolicyVersion.objects.count() == 0


def test_ask_json(tmp_path, make_user, engine_url):
    (tmp_path / "travel.md").write_text(TRAVEL)
    ingest(tmp_path, "--effective-from", "2024-01-01")
    make_user(Role.STAFF, username="asker")

    answer = ask("How much are meals reimbursed per day?", "--user", "asker")
    assert answer["refused"] is False
    assert answer["citations"][0]["quote"] == "Meals are reimbursed up to $60 per day."
    assert answer["citations"][0]["section"] == "Travel policy > Meals"

    refused = ask("Can I bring my dog to work?", "--user", "asker")
    assert refused["refused"] is True
    assert refused["citations"] == []


def test_ask_needs_known_user(db):
    with pytest.raises(CommandError, match="No active appliance account"):
        ask("Anything?", "--user", "nobody")
