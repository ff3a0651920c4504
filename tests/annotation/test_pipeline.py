"""The annotation pipeline in this process, with the real model: the result
is schema-valid whatever the model returns."""

from __future__ import annotations

import copy
import time
from typing import Any

import jsonschema
import pytest

from appliance.accounts.roles import Role
from appliance.annotation import batches
from appliance.annotation.schema import result_schema
from appliance.annotation.services import process_job, result_for
from appliance.annotation.taxonomy import load
from appliance.audit.models import AuditEvent
from appliance.jobs import execution
from appliance.jobs.models import Job
from appliance.jobs.payloads import read_redacted, read_result
from tests.conftest import use_engine
from tests.support import documents
from tests.support.engine_proxy import EngineProxy

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")
# The memo's signer, named in its header; redaction must keep it from the model.
SIGNER = "RIGAS"


def run(user: Any, name: str, data: bytes) -> Job:
    job = batches.submit_file(user, batches.Upload(name, data), enqueue=False)
    outcome = execution.execute(str(job.id), process_job)
    # A busy engine times out now and then; the job retries as a worker would.
    while outcome.retry_in is not None:
        time.sleep(outcome.retry_in)
        outcome = execution.execute(str(job.id), process_job)
    return Job.objects.get(id=job.id)


@pytest.mark.django_db
def test_docx_memo_annotated(make_user, engine_url):
    user = make_user(Role.STAFF)

    job = run(user, "memo.docx", documents.docx_of(MEMO))

    assert job.state == "succeeded", job.reason
    result = read_result(job)
    assert result is not None
    jsonschema.validate(result, result_schema(load()))
    assert result["document_type"] == "memorandum"
    assert result["document_type_source"] == "rules"
    assert result["language"] == "en"
    assert result["classification"] == "internal"
    assert result["retention"] == "long_term"
    assert "government_operations" in result["tags"]
    assert result["pii"].get("PERSON", 0) >= 1
    assert result["pii_total"] == sum(result["pii"].values())
    assert result["file"]["name"] == "memo.docx"
    assert result["model"]["calls"] == 1
    redacted = read_redacted(job)
    assert redacted is not None
    assert SIGNER not in redacted["text"]
    actions = list(
        AuditEvent.objects.filter(object_id=str(job.id)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["job.submitted", "job.redacted", "model.called", "job.succeeded"]


def junk(content: str) -> Any:
    def rewrite(completion: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(completion)
        changed["choices"][0]["message"]["content"] = content
        changed["choices"][0]["logprobs"] = None
        return changed

    return rewrite


@pytest.mark.parametrize(
    ("content", "fallback"),
    [
        ("not json at all", "model_output_invalid"),
        (
            '{"summary": "x", "document_type": "poem", "tags": []}',
            "model_output_invalid",
        ),
        (
            '{"summary": "the the the the the the the the the the the the", '
            '"document_type": "other", "tags": ["finance"]}',
            "summary_rejected",
        ),
        (
            '{"summary": "A memo about <PERSON_9> and the closing of offices.", '
            '"document_type": "other", "tags": []}',
            "summary_rejected",
        ),
    ],
    ids=["not-json", "off-schema", "repetitive", "invented-token"],
)
@pytest.mark.django_db
def test_junk_answer_falls_back(make_user, engine_url, content, fallback):
    user = make_user(Role.STAFF)
    with EngineProxy(engine_url, rewrite=junk(content)) as proxy:
        use_engine(proxy.url)
        try:
            job = run(user, "memo.txt", MEMO.encode())
        finally:
            use_engine(engine_url)

    assert job.state == "succeeded", job.reason
    result = read_result(job)
    assert result is not None
    jsonschema.validate(result, result_schema(load()))
    assert result["model"]["fallback"] == fallback
    assert result["summary_source"] == "extract"
    assert result["summary"].startswith("Closing of Federal Government")
    assert result["document_type"] == "memorandum"


@pytest.mark.django_db
def test_summary_names_owner_only(make_user, engine_url):
    owner = make_user(Role.STAFF)
    other = make_user(Role.STAFF)
    # The memo names one person, its signer, so the vault issues PERSON_1.
    answer = (
        '{"summary": "A memo from <PERSON_1> closing federal offices.", '
        '"document_type": "memorandum", "tags": []}'
    )
    with EngineProxy(engine_url, rewrite=junk(answer)) as proxy:
        use_engine(proxy.url)
        try:
            job = run(owner, "memo.txt", MEMO.encode())
        finally:
            use_engine(engine_url)

    stored = read_result(job)
    shown = result_for(job, owner)

    assert stored is not None
    assert stored["summary_source"] == "model"
    assert stored["summary"] == "A memo from <PERSON_1> closing federal offices."
    assert shown is not None
    assert SIGNER in shown["summary"]
    assert "<PERSON_1>" not in shown["summary"]
    assert result_for(job, other) is None
