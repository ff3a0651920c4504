"""Content type detection from a file's bytes; the file name is never used."""

from __future__ import annotations

import io
import re
import zipfile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
OLE2 = "application/x-ole-storage"
EML = "message/rfc822"
HTML = "text/html"
TEXT = "text/plain"

_HEADER_LINE = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{1,40}):[ \t]*\S", re.MULTILINE)
_MAIL_HEADERS = {
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"received",
    b"return-path",
    b"cc",
    b"reply-to",
    b"content-type",
}
# A document, or a fragment that starts with a common block element.
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title|h[1-6]"
    rb"|p|div|table|ul|ol|section|article|header|nav|main)[\s>/]",
    re.I | re.S,
)


def detect(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE2
    head = data[:4096].removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return HTML
    if _looks_like_mail(head):
        return EML
    return TEXT


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return ZIP
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return ZIP


def _looks_like_mail(head: bytes) -> bool:
    """An RFC 5322 message starts with header lines; require the first line to
    be one and at least three well-known mail headers before the body."""
    block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if not _HEADER_LINE.match(block):
        return False
    names = {match.group(1).lower() for match in _HEADER_LINE.finditer(block)}
    return len(names & _MAIL_HEADERS) >= 3
