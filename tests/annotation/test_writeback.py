"""Annotations written back into PDF and DOCX files read back the same."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any
from xml.etree import ElementTree

import docx
import pytest
from pypdf import PdfReader

from appliance.accounts.roles import Role
from appliance.annotation import batches, writeback
from appliance.annotation.services import process_job, result_for
from appliance.jobs import execution
from appliance.jobs.models import Job
from tests.support import documents

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")
CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"


def annotated(user: Any, name: str, data: bytes) -> Job:
    job = batches.submit_file(user, batches.Upload(name, data), enqueue=False)
    outcome = execution.execute(str(job.id), process_job)
    # A busy engine times out now and then; the job retries as a worker would.
    while outcome.retry_in is not None:
        time.sleep(outcome.retry_in)
        outcome = execution.execute(str(job.id), process_job)
    job = Job.objects.get(id=job.id)
    assert job.state == "succeeded", job.reason
    return job


def custom_properties(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("docProps/custom.xml"))
        types = archive.read("[Content_Types].xml").decode()
        rels = archive.read("_rels/.rels").decode()
    assert "/docProps/custom.xml" in types
    assert "relationships/custom-properties" in rels
    found = {}
    for prop in root.iter(f"{CUSTOM}property"):
        value = prop.find(f"{VT}lpwstr")
        assert value is not None
        found[str(prop.get("name"))] = str(value.text)
    return found


@pytest.mark.django_db
def test_pdf_and_docx_round_trip(make_user, api_client_for, engine_url):
    user = make_user(Role.STAFF)
    client = api_client_for(user)
    pdf_job = annotated(user, "memo.pdf", documents.pdf_of(MEMO))
    docx_job = annotated(user, "memo.docx", documents.docx_of(MEMO))

    pdf = client.get(f"/api/v1/annotations/{pdf_job.id}/file")
    word = client.get(f"/api/v1/annotations/{docx_job.id}/file")

    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="memo.pdf"' in pdf["Content-Disposition"]
    result = result_for(pdf_job, user)
    info = PdfReader(io.BytesIO(pdf.content)).metadata
    assert result is not None
    assert info is not None
    metadata = {key: str(value) for key, value in info.items()}
    assert metadata["/AnnotationDocumentType"] == result["document_type"]
    assert metadata["/AnnotationClassification"] == result["classification"]
    assert metadata["/AnnotationRetention"] == result["retention"]
    assert metadata["/AnnotationLanguage"] == "en"
    assert metadata["/Subject"] == result["summary"]
    assert metadata["/Keywords"] == ", ".join(result["tags"])
    assert (
        "Closing of Federal Government"
        in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    )

    assert word.status_code == 200
    result = result_for(docx_job, user)
    assert result is not None
    properties = custom_properties(word.content)
    assert properties["AnnotationDocumentType"] == "memorandum"
    assert properties["AnnotationClassification"] == result["classification"]
    assert properties["AnnotationSummary"] == result["summary"]
    assert properties["AnnotationTags"] == ", ".join(result["tags"])
    core = docx.Document(io.BytesIO(word.content)).core_properties
    assert core.category == "memorandum"
    assert core.keywords == ", ".join(result["tags"])
    assert (
        docx.Document(io.BytesIO(word.content)).paragraphs[0].text
        == (MEMO.splitlines()[0])
    )


def test_docx_keeps_other_custom_properties():
    first = writeback._with_custom_properties(
        documents.docx_of(MEMO), {"Department": "Records", "AnnotationTags": "a"}
    )

    second = writeback._with_custom_properties(first, {"AnnotationTags": "b"})

    properties = custom_properties(second)
    assert properties == {"Department": "Records", "AnnotationTags": "b"}
    with zipfile.ZipFile(io.BytesIO(second)) as archive:
        rels = archive.read("_rels/.rels").decode()
    assert rels.count("relationships/custom-properties") == 1


def test_other_formats_unsupported():
    with pytest.raises(writeback.WritebackUnsupported):
        writeback.write_back(documents.html_of(MEMO, "Memo"), {})
