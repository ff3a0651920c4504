"""Text extraction by content, and a clear error for every bad file."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from pypdf import PdfWriter

from appliance.documents import detection
from appliance.documents.extraction import DocumentError, Limits, extract

TEXT = "Our advisers are free from conflicts of interest."


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in a Helvetica text object."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length "
        + str(len(stream)).encode()
        + b" >>\nstream\n"
        + stream
        + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    trailer = f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\n"
    out.write(f"{trailer}startxref\n{xref}\n%%EOF".encode())
    return out.getvalue()


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_pdf_text_extracted():
    result = extract(minimal_pdf(TEXT))
    assert result.content_type == "application/pdf"
    assert TEXT in result.text


def test_docx_text_extracted():
    result = extract(docx_bytes(TEXT))
    assert result.content_type.endswith("wordprocessingml.document")
    assert result.text.strip() == TEXT


def test_html_text_without_markup():
    page = (
        "<!DOCTYPE html><html><head><title>x</title><script>var a=1;</script>"
        f"</head><body><p>{TEXT}</p></body></html>"
    )
    result = extract(page.encode())
    assert result.content_type == "text/html"
    assert result.text == TEXT


@pytest.mark.parametrize(
    "encoded",
    [
        TEXT.encode("utf-16"),
        ("\ufeff" + TEXT).encode("utf-8"),
        "Café owners earn 5 % — guaranteed, naïvely claimed.".encode("cp1252"),
    ],
    ids=["utf-16-bom", "utf-8-bom", "cp1252"],
)
def test_text_encodings_decoded(encoded):
    text = extract(encoded).text
    assert "guaranteed" in text or TEXT in text
    assert "\ufeff" not in text


def test_type_detected_by_content_not_name():
    assert detection.detect(minimal_pdf(TEXT)) == "application/pdf"
    assert detection.detect(b"plain words") == "text/plain"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty_file"),
        (b"   \n\t ", "empty_file"),
        (b"%PDF-1.7\ngarbage without objects", "corrupt_file"),
        (b"PK\x03\x04not really a zip", "unsupported_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "unsupported_type"),
        (bytes(range(256)) * 40, "unsupported_type"),
    ],
    ids=["empty", "whitespace", "corrupt-pdf", "broken-zip", "legacy-office", "binary"],
)
def test_bad_file_rejected(data, reason):
    with pytest.raises(DocumentError) as error:
        extract(data)
    assert error.value.reason == reason
    assert error.value.message


def test_encrypted_pdf_rejected():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("owner-password")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentError) as error:
        extract(out.getvalue())
    assert error.value.reason == "encrypted_file"


def test_docx_bomb_rejected():
    buffer = io.BytesIO(docx_bytes(TEXT))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(DocumentError) as error:
        extract(buffer.getvalue())
    assert error.value.reason == "file_too_large"
    assert "zip bomb" in error.value.message


def test_docx_over_total_size_rejected():
    buffer = io.BytesIO(docx_bytes(TEXT))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/photo.bin", b"x" * (2 * 1024 * 1024))
    with pytest.raises(DocumentError) as error:
        extract(buffer.getvalue(), Limits(max_uncompressed_bytes=1024 * 1024))
    assert error.value.reason == "file_too_large"
