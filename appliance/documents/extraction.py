"""Text extraction from uploaded files, by detected content, not file name.

Supported: PDF (pypdf), DOCX (python-docx), HTML (the standard library's
parser) and plain text in UTF-8, UTF-16 (with a byte-order mark) or whatever
``charset-normalizer`` detects. Every failure raises DocumentError with a
reason code and a message that names the file's problem, never its content.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

import charset_normalizer

from appliance.errors import PermanentError

# Uncompressed size a DOCX may expand to; a larger one is treated as a zip bomb.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_PDF_PAGES = 2000


class DocumentError(PermanentError):
    reason = "invalid_input"


@dataclass(frozen=True)
class Extracted:
    text: str
    content_type: str


def detect(data: bytes) -> str:
    head = data[:1024].lstrip()
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return (
                        "application/vnd.openxmlformats-officedocument."
                        "wordprocessingml.document"
                    )
        except zipfile.BadZipFile:
            pass
        return "application/zip"
    lowered = head.lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    return "text/plain"


def extract(data: bytes) -> Extracted:
    if not data:
        raise DocumentError("The file is empty.")
    content_type = detect(data)
    if content_type == "application/pdf":
        text = _pdf(data)
    elif content_type.endswith("wordprocessingml.document"):
        text = _docx(data)
    elif content_type == "text/html":
        text = _html(_decode(data))
    elif content_type == "text/plain":
        text = _decode(data)
    else:
        raise DocumentError(
            "This file type is not supported. Send PDF, DOCX, HTML or plain text."
        )
    if not text.strip():
        raise DocumentError("The file contains no text.")
    return Extracted(text=text, content_type=content_type)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise DocumentError(
            "The file is not text in a recognizable encoding. Save it as UTF-8."
        )
    return str(best)


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(
                "The PDF is encrypted. Send a copy without a password.",
                reason="encrypted_file",
            )
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DocumentError(
                f"The PDF has more than {MAX_PDF_PAGES} pages. Split it.",
                reason="file_too_large",
            )
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise DocumentError(
            "The PDF is corrupt or unreadable.", reason="corrupt_file"
        ) from None


def _docx(data: bytes) -> str:
    import docx

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > MAX_UNCOMPRESSED_BYTES:
        raise DocumentError(
            "The DOCX expands to more than "
            f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB; it is rejected as a "
            "possible zip bomb.",
            reason="file_too_large",
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises many types for broken packages
        raise DocumentError(
            "The DOCX is corrupt or unreadable.", reason="corrupt_file"
        ) from None
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


class _TextParser(HTMLParser):
    SKIP = {"script", "style", "head", "noscript", "template"}
    BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _html(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
