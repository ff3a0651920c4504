"""Build document files in every supported format from the real texts in
samples/ (each with its provenance sidecar), and the bad files a records team
meets in bulk: corrupt, encrypted, scanned, empty, zip bombs.

The tests and the annotation benchmarks generate their fixtures here, so no
binary fixture is committed.
"""

from __future__ import annotations

import io
import textwrap
import zipfile
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl
from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "samples" / "files"
COMPLIANCE = ROOT / "samples" / "compliance"

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LINES_PER_PAGE = 60
LINE_CHARS = 95


def sample(name: str) -> str:
    """The text of a sample file, from samples/files or samples/compliance."""
    for folder in (FILES, COMPLIANCE):
        path = folder / name
        if path.exists():
            return path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
    raise FileNotFoundError(name)


def _pdf_string(line: str) -> bytes:
    data = line.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _write_pdf(page_streams: list[bytes], resources: list[bytes]) -> bytes:
    """A PDF with one page per content stream; ``resources`` are the pages'
    resource dictionaries (one each)."""
    pages = len(page_streams)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + 2 * i} 0 R".encode() for i in range(pages))
        + f"] /Count {pages} >>".encode(),
    ]
    for index, stream in enumerate(page_streams):
        content = 4 + 2 * index
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            + resources[index]
            + f" /Contents {content} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"
        )
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
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


FONT = (
    b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
    b"/Encoding /WinAnsiEncoding >> >> >>"
)


def pdf_of(text: str) -> bytes:
    """A text PDF: Helvetica lines, LINES_PER_PAGE to a page."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(paragraph, LINE_CHARS) or [""]
    streams = []
    for start in range(0, max(len(lines), 1), LINES_PER_PAGE):
        chunk = lines[start : start + LINES_PER_PAGE]
        body = b"BT /F1 10 Tf 12 TL 50 750 Td "
        body += b" T* ".join(b"(" + _pdf_string(line) + b") Tj" for line in chunk)
        streams.append(body + b" ET")
    return _write_pdf(streams, [FONT] * len(streams))


def scanned_pdf() -> bytes:
    """A one-page PDF that holds only an image, as a scanner writes it."""
    pixels = bytes((x * 16 + y * 16) % 256 for y in range(16) for x in range(16))
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 16 /Height 16 "
        b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length "
        + str(len(pixels)).encode()
        + b" >>\nstream\n"
        + pixels
        + b"\nendstream"
    )
    stream = b"q 400 0 0 400 100 300 cm /Im1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream",
        image,
    ]
    return _assemble(objects)


def encrypted_pdf(text: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_of(text)))
    writer.encrypt(user_password="", owner_password="owner-password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog broken"


def docx_of(text: str) -> bytes:
    document = docx.Document()
    for paragraph in text.splitlines():
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_bomb(text: str) -> bytes:
    """A valid DOCX with a part that inflates 8 MB of zeros from a few KB."""
    buffer = io.BytesIO(docx_of(text))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * (8 * 1024 * 1024))
    return buffer.getvalue()


def xlsx_of(csv_text: str, rows: int = 60) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sheet 1"
    for line in csv_text.splitlines()[:rows]:
        sheet.append(line.split(","))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def eml_of(
    body: str,
    subject: str,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """An e-mail with ``body`` and the given (name, bytes, MIME type)
    attachments. The addresses are of the reserved example.gov kind."""
    message = EmailMessage()
    message["From"] = "Records Office <records@opm.example.gov>"
    message["To"] = "Agency Heads <heads@agency.example.gov>"
    message["Subject"] = subject
    message["Date"] = "Thu, 09 Jan 2025 08:00:00 -0500"
    message.set_content(body)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def html_of(text: str, title: str) -> bytes:
    paragraphs = "".join(
        f"<p>{line}</p>"
        for line in text.replace("&", "&amp;").replace("<", "&lt;").splitlines()
        if line.strip()
    )
    page = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{paragraphs}</body></html>"
    )
    return page.encode()


def zip_of(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()
