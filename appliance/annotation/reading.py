"""Reading a submitted file for annotation: the documents app's extraction,
OCR for scanned PDFs where Tesseract is installed, and a flat list of the
attachments of an e-mail with the reason each one could not be read."""

from __future__ import annotations

import importlib.util
import io
import logging
import shutil
from dataclasses import dataclass
from typing import Any

from appliance.documents import detection
from appliance.documents.errors import NEEDS_OCR, DocumentError
from appliance.documents.extraction import Attachment, Extracted, extract
from appliance.documents.limits import DEFAULT_LIMITS, Limits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadFile:
    text: str
    content_type: str
    pages: int | None
    ocr: bool
    attachments: list[dict[str, Any]]


def read(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ReadFile:
    """Extract the text of ``data`` with its attachments' text appended.

    Raises DocumentError with the reason the file cannot be read; a scanned
    PDF raises ``needs_ocr`` unless Tesseract is installed to read it.
    """
    try:
        extracted = extract(data, limits)
    except DocumentError as exc:
        if exc.reason != NEEDS_OCR or not ocr_available():
            raise
        text, pages = ocr_pdf(data, limits)
        return ReadFile(text, detection.PDF, pages, ocr=True, attachments=[])
    return ReadFile(
        text=extracted.full_text(),
        content_type=extracted.content_type,
        pages=extracted.pages,
        ocr=False,
        attachments=flat_attachments(extracted),
    )


def flat_attachments(document: Extracted, prefix: str = "") -> list[dict[str, Any]]:
    """Every attachment, nested ones named ``outer/inner``, with its content
    type, or the reason code it could not be read."""
    flat: list[dict[str, Any]] = []
    for attachment in document.attachments:
        flat.append(_entry(attachment, prefix))
        if attachment.document is not None:
            name = f"{prefix}{attachment.filename}/"
            flat += flat_attachments(attachment.document, name)
    return flat


def _entry(attachment: Attachment, prefix: str) -> dict[str, Any]:
    document = attachment.document
    return {
        "name": prefix + attachment.filename,
        "content_type": document.content_type if document else None,
        "error": attachment.error.reason if attachment.error else None,
    }


def ocr_available() -> bool:
    """True when the tesseract binary, pytesseract and Pillow are installed."""
    return (
        shutil.which("tesseract") is not None
        and importlib.util.find_spec("pytesseract") is not None
        and importlib.util.find_spec("PIL") is not None
    )


def ocr_pdf(data: bytes, limits: Limits) -> tuple[str, int]:
    """Read the images of each page with Tesseract.

    The page images come from pypdf, so no GPL renderer (poppler) is needed;
    text drawn as vector paths rather than images is not read.
    NOTE: this path has not run in CI, whose machines have no tesseract
    binary; the tests cover the needs_ocr failure that replaces it there.
    """
    import pytesseract  # type: ignore[import-not-found, unused-ignore]
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    texts = []
    for page in reader.pages[: limits.max_pages]:
        for image in page.images:
            texts.append(pytesseract.image_to_string(image.image))
    text = "\n\n".join(part.strip() for part in texts if part.strip())
    if not text:
        raise DocumentError(
            "The PDF has no text layer and OCR found no text in its images.",
            reason=NEEDS_OCR,
        )
    logger.info("read %d pages with OCR", len(reader.pages))
    return text, len(reader.pages)
