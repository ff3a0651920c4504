"""Bounds on what extraction will read, so that a hostile or broken file
costs bounded time and memory and fails with a clear reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # Bytes of the file itself.
    max_bytes: int = 50 * 1024 * 1024
    # Pages of a PDF.
    max_pages: int = 2000
    # Bytes an archive (DOCX, XLSX) may expand to, in all.
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    # Expansion of any one archive member; ordinary XML compresses about 10:1,
    # a zip bomb by thousands.
    max_compression_ratio: int = 200
    # Members of an archive.
    max_members: int = 10_000
    # Characters of extracted text; longer text is an error, not truncated.
    max_chars: int = 10_000_000
    # Nesting of e-mails attached to e-mails.
    max_attachment_depth: int = 3


DEFAULT_LIMITS = Limits()
