"""Text extraction from uploaded files, by detected content, not file name.

Supported: PDF (pypdf), DOCX (python-docx), XLSX (openpyxl), e-mail messages
with their attachments (the standard library), HTML, CSV and plain text in
any common encoding. All of these libraries are under permissive licences.
Every failure raises DocumentError with a reason code from ``errors`` and a
message that names the file's problem, never its content.

A PDF without a text layer (a scan) fails with ``needs_ocr``.
NOTE: OCR itself is not wired in; Tesseract is not installed on the machines
this runs on, so such files are reported, not read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.documents import detection
from appliance.documents.errors import (
    EMPTY_FILE,
    FILE_TOO_LARGE,
    NEEDS_OCR,
    UNSUPPORTED_TYPE,
    DocumentError,
)
from appliance.documents.formats.eml import read_eml
from appliance.documents.formats.html import html_to_text
from appliance.documents.formats.office import read_docx, read_xlsx
from appliance.documents.formats.pdf import read_pdf
from appliance.documents.formats.text import csv_dialect, decode, table_text
from appliance.documents.limits import DEFAULT_LIMITS, Limits

CSV = "text/csv"

__all__ = ["Attachment", "DocumentError", "Extracted", "Limits", "extract"]


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail: its text, or why it could not be read."""

    filename: str
    document: Extracted | None
    error: DocumentError | None = None


@dataclass(frozen=True)
class Extracted:
    text: str
    content_type: str
    pages: int | None = None
    attachments: list[Attachment] = field(default_factory=list)

    def full_text(self) -> str:
        """The text with every readable attachment's text appended."""
        parts = [self.text]
        for attachment in self.attachments:
            if attachment.document is not None:
                parts.append(f"\n\n[Attachment: {attachment.filename}]\n")
                parts.append(attachment.document.full_text())
        return "".join(parts)


def extract(
    data: bytes, limits: Limits = DEFAULT_LIMITS, *, depth: int = 0
) -> Extracted:
    if not data.strip():
        raise DocumentError("The file is empty.", reason=EMPTY_FILE)
    if len(data) > limits.max_bytes:
        raise DocumentError(
            f"The file is larger than {limits.max_bytes // (1024 * 1024)} MB.",
            reason=FILE_TOO_LARGE,
        )
    content_type = detection.detect(data)
    extracted = _read(data, content_type, limits, depth)
    if len(extracted.text) > limits.max_chars:
        raise DocumentError(
            f"The file holds more than {limits.max_chars} characters of text. "
            "Split it.",
            reason=FILE_TOO_LARGE,
        )
    if not extracted.text.strip() and not extracted.attachments:
        raise DocumentError("The file contains no text.", reason=EMPTY_FILE)
    return extracted


def _read(data: bytes, content_type: str, limits: Limits, depth: int) -> Extracted:
    if content_type == detection.PDF:
        pdf = read_pdf(data, limits)
        if not pdf.text.strip() and pdf.pages:
            raise DocumentError(
                "The PDF has no text layer (a scan, or text drawn as images); "
                "it needs OCR before it can be read.",
                reason=NEEDS_OCR,
            )
        return Extracted(pdf.text, content_type, pages=pdf.pages)
    if content_type == detection.DOCX:
        return Extracted(read_docx(data, limits), content_type)
    if content_type == detection.XLSX:
        return Extracted(read_xlsx(data, limits), content_type)
    if content_type == detection.EML:
        return _read_mail(data, limits, depth)
    if content_type in (detection.ZIP, detection.OLE2):
        raise DocumentError(
            "This file type is not supported (a zip archive or a legacy Office "
            "file). Send PDF, DOCX, XLSX, EML, HTML, CSV or text; save .doc and "
            ".xls files as DOCX and XLSX.",
            reason=UNSUPPORTED_TYPE,
        )
    text = decode(data)
    if content_type == detection.HTML:
        return Extracted(html_to_text(text), content_type)
    dialect = csv_dialect(text)
    if dialect is not None:
        return Extracted(table_text(text, dialect), CSV)
    return Extracted(text, detection.TEXT)


def _read_mail(data: bytes, limits: Limits, depth: int) -> Extracted:
    mail = read_eml(data)
    attachments = []
    for raw in mail.attachments:
        if depth >= limits.max_attachment_depth:
            error = DocumentError(
                "Attachments are nested too deeply.", reason=UNSUPPORTED_TYPE
            )
            attachments.append(Attachment(raw.filename, None, error))
            continue
        try:
            document = extract(raw.data, limits, depth=depth + 1)
        except DocumentError as exc:
            attachments.append(Attachment(raw.filename, None, exc))
        else:
            attachments.append(Attachment(raw.filename, document))
    return Extracted(mail.text, detection.EML, attachments=attachments)
