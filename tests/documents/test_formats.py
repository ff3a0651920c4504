"""Every supported format, with fixtures built from the real public documents
in samples/files, and the failures a records team will meet in bulk."""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl
import pytest

from appliance.documents.extraction import DocumentError, Limits, extract
from tests.documents.test_extraction import minimal_pdf

FILES = Path(__file__).resolve().parents[2] / "samples" / "files"
MEMO = (FILES / "opm_cpm_2020-18_memo_dec24_closure.txt").read_text()
NOTICE = (FILES / "opm_chco_email_notice_2025-01-09_closure.txt").read_text()
BANKS = (FILES / "fdic_failed_bank_list_2000-2016.csv").read_text(encoding="latin-1")


def docx_of(text: str) -> bytes:
    document = docx.Document()
    for paragraph in text.split("\n"):
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_of(csv_text: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Failed banks"
    for line in csv_text.splitlines()[:50]:
        sheet.append(line.split(","))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def mail_with(attachments: list[tuple[str, bytes, str]]) -> bytes:
    return bytes(mail_message(attachments))


def mail_message(attachments: list[tuple[str, bytes, str]]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "CHCO Council <chco@opm.example.gov>"
    message["To"] = "Deputy CHCOs <deputies@opm.example.gov>"
    message["Subject"] = "Closing of Federal offices"
    message["Date"] = "Tue, 07 Jan 2025 18:00:00 -0500"
    message.set_content(NOTICE)
    for name, data, subtype in attachments:
        maintype, _, sub = subtype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=sub, filename=name)
    return message


def test_docx_paragraphs_and_tables():
    document = docx.Document()
    document.add_paragraph(MEMO.split("\n")[0])
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Bank Name"
    table.rows[0].cells[1].text = "City"
    out = io.BytesIO()
    document.save(out)
    text = extract(out.getvalue()).text
    assert MEMO.split("\n")[0] in text
    assert "Bank Name | City" in text


def test_xlsx_rows_become_lines():
    result = extract(xlsx_of(BANKS))
    assert result.content_type.endswith("spreadsheetml.sheet")
    assert "# Failed banks" in result.text
    assert "First CornerStone Bank | King of Prussia | PA" in result.text


def test_csv_detected_and_tabulated():
    result = extract(BANKS.encode("latin-1"))
    assert result.content_type == "text/csv"
    assert result.text.splitlines()[0].startswith("Bank Name | City | ST")


def test_html_page_from_corpus():
    result = extract((FILES / "opengov_tools_we_use.html").read_bytes())
    assert result.content_type == "text/html"
    assert "<" not in result.text


def test_email_headers_body_and_attachments():
    data = mail_with(
        [
            (
                "memo.docx",
                docx_of(MEMO),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            (
                "memo.pdf",
                minimal_pdf("Excused absence for Federal employees"),
                "application/pdf",
            ),
            ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf"),
        ]
    )
    result = extract(data)
    assert result.content_type == "message/rfc822"
    assert "Subject: Closing of Federal offices" in result.text
    assert NOTICE.split("\n")[0] in result.text
    names = [attachment.filename for attachment in result.attachments]
    assert names == ["memo.docx", "memo.pdf", "broken.pdf"]
    docx_part, pdf_part, broken = result.attachments
    assert docx_part.document is not None
    assert pdf_part.document is not None
    assert broken.document is None
    assert broken.error is not None and broken.error.reason == "corrupt_file"
    full = result.full_text()
    assert "[Attachment: memo.pdf]" in full
    assert "Excused absence" in full


def test_nested_mail_depth_limited():
    message = mail_message([])
    for _ in range(4):
        outer = mail_message([])
        outer.add_attachment(message, filename="forward.eml")
        message = outer
    result = extract(bytes(message), Limits(max_attachment_depth=2))
    depth = 0
    node = result
    while node.attachments and node.attachments[0].document is not None:
        node = node.attachments[0].document
        depth += 1
    assert depth == 2
    assert node.attachments[0].error is not None


def test_scanned_pdf_needs_ocr():
    blank_page = minimal_pdf("").replace(b"() Tj", b"")
    with pytest.raises(DocumentError) as error:
        extract(blank_page)
    assert error.value.reason == "needs_ocr"


def test_page_limit_enforced():
    with pytest.raises(DocumentError) as error:
        extract(minimal_pdf(MEMO.split("\n")[0]), Limits(max_pages=0))
    assert error.value.reason == "file_too_large"


def test_size_limit_enforced():
    with pytest.raises(DocumentError) as error:
        extract(MEMO.encode(), Limits(max_bytes=100))
    assert error.value.reason == "file_too_large"


def test_corrupt_xlsx_rejected():
    data = bytearray(xlsx_of(BANKS))
    data[len(data) // 2 : len(data) // 2 + 200] = b"\0" * 200
    with pytest.raises(DocumentError) as error:
        extract(bytes(data))
    assert error.value.reason in ("corrupt_file", "unsupported_type")


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in FILES.iterdir() if not p.name.endswith(".source.txt")),
)
def test_every_sample_file_extracts(name):
    result = extract((FILES / name).read_bytes())
    assert len(result.text) > 100


@pytest.mark.parametrize(
    "encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
)
def test_wide_text_without_bom_decoded(encoding):
    text = "Guaranteed returns of 20% for Jane Roe."
    assert extract(text.encode(encoding)).text == text


def test_nul_bytes_rejected_as_binary():
    with pytest.raises(DocumentError) as error:
        extract(b"\0" * 4096)
    assert error.value.reason == "unsupported_type"
