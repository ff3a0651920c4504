"""POST /api/v1/compliance-checks through a real worker and the real model."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from django.db import connection

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.compliance.schema import VERDICT_SCHEMA
from appliance.jobs.models import Job
from tests.support.polling import wait_until

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "compliance"
# The tweet's author, named in the sample's provenance note, put in front of
# the tweet the way a social-media export would show it.
AUTHOR = "Brett Harrison"


def tweet_with_author() -> str:
    text = (SAMPLES / "c07_ftx_us_fdic_insurance_tweet.txt").read_text()
    # The last line adds a weak hit of another rule, which the model is asked
    # to confirm, so the check makes a model call.
    return f"Tweet by {AUTHOR}:\n{text}\nTry our AI-driven budgeting app."


def raw_rows_containing(needle: str) -> list[str]:
    """Tables whose rows, read as text or as bytes, contain ``needle``."""
    hex_needle = needle.encode().hex()
    hits = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t '
                "WHERE position(%s in t::text) > 0 OR position(%s in t::text) > 0",
                [needle, hex_needle],
            )
            if cursor.fetchone()[0]:
                hits.append(table)
    return hits


@pytest.mark.slow
def test_sample_checked_end_to_end(
    make_user, api_client_for, engine_url, worker_factory
):
    worker_factory("e2e", engine_url)
    user = make_user(Role.STAFF)
    client = api_client_for(user)

    response = client.post(
        "/api/v1/compliance-checks", {"text": tweet_with_author()}, format="json"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    job = wait_until(
        lambda: Job.objects.filter(
            id=job_id, state__in=["succeeded", "failed"]
        ).first(),
        timeout=180,
        what="the job to finish",
    )
    assert job.state == "succeeded", job.reason

    body = client.get(f"/api/v1/jobs/{job_id}").json()
    assert body["state"] == "succeeded"
    verdict = body["result"]
    jsonschema.validate(verdict, VERDICT_SCHEMA)
    assert verdict["verdict"] == "fail"
    rules = {finding["rule_id"] for finding in verdict["findings"]}
    assert "FIN-005" in rules
    assert verdict["model"]["rules_asked"] == ["FIN-004"]
    assert verdict["redaction"]["entities"].get("PERSON", 0) >= 1
    text = tweet_with_author()
    for finding in verdict["findings"]:
        if finding["start"] is not None:
            assert finding["evidence"] == text[finding["start"] : finding["end"]]

    actions = list(
        AuditEvent.objects.filter(object_id=job_id).values_list("action", flat=True)
    )
    assert actions == ["job.submitted", "job.redacted", "model.called", "job.succeeded"]

    assert raw_rows_containing(AUTHOR) == []
    assert raw_rows_containing("individually FDIC-insured") == []


@pytest.mark.django_db
def test_file_upload_is_extracted(make_user, api_client_for, settings):
    user = make_user(Role.STAFF)
    client = api_client_for(user)
    sample = SAMPLES / "c06_ria_conflict_free_claims.txt"
    with sample.open("rb") as handle:
        response = client.post("/api/v1/compliance-checks", {"file": handle})
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["id"])
    assert job.input_chars == len(sample.read_text())
    assert job.state == "queued"
