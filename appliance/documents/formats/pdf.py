"""PDF text with pypdf. A PDF with pages but no text layer is a scan."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from appliance.documents.errors import (
    CORRUPT_FILE,
    ENCRYPTED_FILE,
    FILE_TOO_LARGE,
    DocumentError,
)
from appliance.documents.limits import Limits


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: int
    has_images: bool


def read_pdf(data: bytes, limits: Limits) -> PdfText:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(
                "The PDF is encrypted. Send a copy without a password.",
                reason=ENCRYPTED_FILE,
            )
        pages = len(reader.pages)
        if pages > limits.max_pages:
            raise DocumentError(
                f"The PDF has {pages} pages, more than the {limits.max_pages} "
                "allowed. Split it.",
                reason=FILE_TOO_LARGE,
            )
        texts = []
        has_images = False
        for page in reader.pages:
            texts.append(page.extract_text() or "")
            has_images = has_images or _has_images(page)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError):
        raise DocumentError(
            "The PDF is corrupt or unreadable.", reason=CORRUPT_FILE
        ) from None
    return PdfText(text="\n\n".join(texts), pages=pages, has_images=has_images)


def _has_images(page: object) -> bool:
    try:
        resources = page["/Resources"]  # type: ignore[index]
        objects = resources.get("/XObject") or {}
        return any(
            obj.get_object().get("/Subtype") == "/Image" for obj in objects.values()
        )
    except (KeyError, TypeError, AttributeError):
        return False
