"""Two processes redacting into the same scope at once agree on every
token, and the vault contains each value once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from appliance.privacy.models import VaultEntry
from tests.conftest import database_url
from tests.support.processes import ROOT

PEOPLE = [
    ("Maria Lopez", "maria.lopez@example.com"),
    ("Daniel Okafor", "d.okafor@example.org"),
    ("Grace Nakamura", "grace.n@example.net"),
    ("Samuel Adeyemi", "s.adeyemi@example.com"),
    ("Lucia Fernández", "lucia.f@example.com"),
]
TOKEN = re.compile(r"<[A-Z_]+_\d+>")


def lines(order: list[int], count: int) -> str:
    rows = []
    for i in range(count):
        name, email = PEOPLE[order[i % len(order)]]
        text = f"Request {i}: {name} asked us to write to {email} about leave."
        rows.append(json.dumps({"id": i, "text": text}))
    return "\n".join(rows) + "\n"


def token_map(output: str, source: str) -> dict[str, str]:
    """Value -> token, read from the command's JSON lines."""
    texts = {
        json.loads(line)["id"]: json.loads(line)["text"] for line in source.splitlines()
    }
    mapping: dict[str, str] = {}
    for line in output.splitlines():
        result = json.loads(line)
        original = texts[result["id"]]
        issued = TOKEN.findall(result["text"])
        for entity, token in zip(result["entities"], issued, strict=True):
            value = original[entity["start"] : entity["end"]]
            assert mapping.setdefault(value, token) == token
    return mapping


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_agree_on_tokens():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "appliance.settings.test",
        "APPLIANCE_DATABASE_URL": database_url(),
        "APPLIANCE_BROKER_URL": str(settings.CELERY_BROKER_URL),
    }
    inputs = [lines([0, 1, 2, 3, 4], 120), lines([4, 3, 2, 1, 0], 120)]
    command = [
        sys.executable,
        "manage.py",
        "redact",
        "--jsonl",
        "--scope",
        "conversation:shared",
    ]
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in inputs
    ]
    outputs = [
        p.communicate(source, timeout=300)
        for p, source in zip(processes, inputs, strict=True)
    ]

    for process, (_, errors) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, errors[-2000:]
    first = token_map(outputs[0][0], inputs[0])
    second = token_map(outputs[1][0], inputs[1])
    assert len(first) == 2 * len(PEOPLE)
    assert first == second
    assert VaultEntry.objects.filter(scope_id="conversation:shared").count() == 2 * len(
        PEOPLE
    )
