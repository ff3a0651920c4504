"""The last scan before a model call, on the exact request bytes."""

from __future__ import annotations

import json

import pytest

from appliance.compliance import prompts
from appliance.compliance.rulebook import DEFAULT_RULEBOOK
from appliance.compliance.store import load
from appliance.inference.client import build_body
from appliance.inference.registry import engine_for
from appliance.jobs.models import Workload
from appliance.privacy.errors import PayloadBlocked
from appliance.privacy.residual import ensure_clean


def payload(text: str) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": text}]}).encode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "leaked",
    [
        "SSN 536-22-8190",
        "card \uff14\uff11\uff11\uff11 1111 1111 1111",
        "write to maria.lopez@example.com",
        "call (212) 555-0147",
        "IBAN GB82 WEST 1234 5698 7654 32",
        "Employee ID E204311",
    ],
)
def test_payload_with_identifier_blocked(fresh_engines, leaked):
    with pytest.raises(PayloadBlocked):
        ensure_clean(payload(f"Please review: {leaked}."))


@pytest.mark.django_db
def test_payload_with_tokens_passes(fresh_engines):
    ensure_clean(payload("<PERSON_1> (SSN <US_SSN_1>) wrote to <EMAIL_ADDRESS_1>."))


@pytest.mark.django_db
def test_compliance_request_passes(fresh_engines):
    rulebook = load(DEFAULT_RULEBOOK)
    request = prompts.build_request(
        "Our fund guarantees 12% a year, says <PERSON_1>.", rulebook
    )
    body = build_body(engine_for(Workload.COMPLIANCE_CHECK), request)

    ensure_clean(json.dumps(body).encode())


@pytest.mark.django_db
def test_undecodable_payload_blocked(fresh_engines):
    with pytest.raises(PayloadBlocked):
        ensure_clean(b"\xff\xfe not utf-8")
