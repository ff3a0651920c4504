"""Reading each format for annotation, from fixtures built from the sample
texts, and the reason each bad file fails with."""

from __future__ import annotations

import shutil

import pytest

from appliance.annotation import reading
from appliance.documents.errors import DocumentError
from tests.support import documents

MEMO = documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")
NOTICE = documents.sample("opm_chco_email_notice_2025-01-09_closure.txt")
BANKS = documents.sample("fdic_failed_bank_list_2000-2016.csv")
MINUTES = documents.sample("fomc_minutes_2023-06-13_14.txt")
FIRST_LINE = MEMO.splitlines()[0]


def test_pdf_pages_and_text():
    result = reading.read(documents.pdf_of(MINUTES))

    assert result.content_type == "application/pdf"
    assert result.pages is not None and result.pages > 1
    assert "Federal Open Market Committee" in result.text
    assert "Attendance" in result.text
    assert result.ocr is False


def test_docx_paragraphs():
    result = reading.read(documents.docx_of(MEMO))

    assert result.content_type.endswith("wordprocessingml.document")
    assert FIRST_LINE in result.text
    assert "MEMORANDUM FOR" in result.text


def test_xlsx_rows_as_lines():
    result = reading.read(documents.xlsx_of(BANKS))

    assert result.content_type.endswith("spreadsheetml.sheet")
    assert "Bank Name | City | ST" in result.text
    assert "First CornerStone Bank | King of Prussia | PA" in result.text


def test_csv_and_html_and_text():
    table = reading.read(BANKS.encode("utf-8"))
    page = reading.read(documents.html_of(MEMO, "Closing"))
    plain = reading.read(NOTICE.encode("utf-16"))

    assert table.content_type == "text/csv"
    assert page.content_type == "text/html"
    assert "<p>" not in page.text
    assert FIRST_LINE in page.text
    assert plain.content_type == "text/plain"
    assert NOTICE.splitlines()[0] in plain.text


def test_eml_attachments_read_recursively():
    inner = documents.eml_of(
        NOTICE,
        "Forwarded notice",
        [("memo.docx", documents.docx_of(MEMO), documents.DOCX_TYPE)],
    )
    outer = documents.eml_of(
        "Please file the attached.",
        "Records to file",
        [
            ("minutes.pdf", documents.pdf_of(MINUTES[:3000]), "application/pdf"),
            ("forwarded.eml", inner, "message/rfc822"),
            ("broken.pdf", documents.corrupt_pdf(), "application/pdf"),
            ("locked.pdf", documents.encrypted_pdf(MEMO), "application/pdf"),
        ],
    )

    result = reading.read(outer)

    assert result.content_type == "message/rfc822"
    assert "Subject: Records to file" in result.text
    assert "Federal Open Market Committee" in result.text
    assert FIRST_LINE in result.text
    entries = {entry["name"]: entry for entry in result.attachments}
    assert entries["minutes.pdf"]["content_type"] == "application/pdf"
    assert entries["forwarded.eml"]["content_type"] == "message/rfc822"
    assert entries["forwarded.eml/memo.docx"]["error"] is None
    assert entries["broken.pdf"]["error"] == "corrupt_file"
    assert entries["locked.pdf"]["error"] == "encrypted_file"


def test_scanned_pdf_needs_ocr(monkeypatch):
    monkeypatch.setattr(reading, "ocr_available", lambda: False)

    with pytest.raises(DocumentError) as error:
        reading.read(documents.scanned_pdf())

    assert error.value.reason == "needs_ocr"
    assert "OCR" in error.value.message


def test_ocr_off_without_tesseract(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)

    assert reading.ocr_available() is False


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (documents.corrupt_pdf(), "corrupt_file"),
        (documents.encrypted_pdf(MEMO), "encrypted_file"),
        (documents.docx_bomb(MEMO), "file_too_large"),
        (b"", "empty_file"),
        (documents.zip_of([("a.txt", b"text")]), "unsupported_type"),
    ],
    ids=["corrupt-pdf", "encrypted-pdf", "docx-bomb", "empty", "plain-zip"],
)
def test_bad_file_reason(data, reason):
    with pytest.raises(DocumentError) as error:
        reading.read(data)

    assert error.value.reason == reason
