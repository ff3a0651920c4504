"""Plain text and CSV: decoding in any common encoding."""

from __future__ import annotations

import csv
import io

import charset_normalizer

from appliance.documents.errors import UNSUPPORTED_TYPE, DocumentError

# Share of control characters above which bytes are taken for a binary file.
MAX_CONTROL_SHARE = 0.05
_ALLOWED_CONTROLS = {"\n", "\r", "\t", "\f", "\v"}


def decode(data: bytes) -> str:
    """Decode text: a byte-order mark decides, then the pattern of NUL bytes
    that UTF-16 and UTF-32 leave in mostly-Latin text, then UTF-8, then
    detection. Text with control characters left over is rejected as binary.
    """
    wide = _wide_encoding(data)
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        text = data.decode("utf-32")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif wide is not None:
        try:
            text = data.decode(wide)
        except UnicodeDecodeError:
            raise DocumentError(
                f"The file looks like {wide.upper()} text but does not decode "
                "as such. Save it as UTF-8.",
                reason=UNSUPPORTED_TYPE,
            ) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            best = charset_normalizer.from_bytes(data).best()
            if best is None:
                raise DocumentError(
                    "The file is neither text in a known encoding nor a supported "
                    "document type. Send PDF, DOCX, XLSX, EML, HTML, CSV or text.",
                    reason=UNSUPPORTED_TYPE,
                ) from None
            text = str(best)
    if _control_share(text) > MAX_CONTROL_SHARE:
        raise DocumentError(
            "The file looks like binary data, not text. Send PDF, DOCX, XLSX, EML, "
            "HTML, CSV or text.",
            reason=UNSUPPORTED_TYPE,
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _wide_encoding(data: bytes) -> str | None:
    """Name UTF-16 or UTF-32 without a byte-order mark from where the NUL
    bytes fall: ASCII letters stored in them leave NULs in fixed positions."""
    sample = data[:4096]
    if len(sample) < 8 or sample.count(0) < len(sample) // 4:
        return None
    usable = len(sample) - len(sample) % 4
    at = [sample[offset:usable:4].count(0) / (usable // 4) for offset in range(4)]
    if at[1] > 0.9 and at[2] > 0.9 and at[3] > 0.9:
        return "utf-32-le"
    if at[0] > 0.9 and at[1] > 0.9 and at[2] > 0.9:
        return "utf-32-be"
    odd = (at[1] + at[3]) / 2
    even = (at[0] + at[2]) / 2
    if odd > 0.9 and even < 0.1:
        return "utf-16-le"
    if even > 0.9 and odd < 0.1:
        return "utf-16-be"
    return None


def _control_share(text: str) -> float:
    sample = text[:20_000]
    if not sample:
        return 0.0
    controls = sum(
        1 for char in sample if ord(char) < 32 and char not in _ALLOWED_CONTROLS
    )
    return controls / len(sample)


def csv_dialect(text: str) -> type[csv.Dialect] | None:
    """The CSV dialect of ``text``, or None when it is not a table: at least
    two rows with the same number (more than one) of fields."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return None
    rows = list(csv.reader(io.StringIO(sample), dialect))
    widths = {len(row) for row in rows if row}
    if len(rows) < 2 or len(widths) != 1 or widths.pop() < 2:
        return None
    return dialect


def table_text(text: str, dialect: type[csv.Dialect]) -> str:
    """One line per row, cells joined with " | ", so that column boundaries
    survive into the text that redaction and models read."""
    rows = csv.reader(io.StringIO(text), dialect)
    return "\n".join(" | ".join(cell.strip() for cell in row) for row in rows if row)
