"""Office Open XML documents: DOCX with python-docx, XLSX with openpyxl.

Both are zip containers, checked for bombs before either library opens them.
openpyxl parses with defusedxml (installed), so entity-expansion attacks fail.
"""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl

from appliance.documents.archives import open_checked
from appliance.documents.errors import CORRUPT_FILE, DocumentError
from appliance.documents.limits import Limits

# What openpyxl raises on a damaged workbook: a broken zip member, XML that
# does not parse (ParseError is a SyntaxError; defusedxml's refusals are
# ValueErrors) or parts that are missing or of the wrong type.
XLSX_ERRORS = (
    zipfile.BadZipFile,
    SyntaxError,
    KeyError,
    ValueError,
    OSError,
    TypeError,
)


def read_docx(data: bytes, limits: Limits) -> str:
    open_checked(data, "DOCX", limits).close()
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises many unrelated types on bad input
        raise DocumentError(
            "The DOCX file is corrupt or unreadable.", reason=CORRUPT_FILE
        ) from None
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(parts)


def read_xlsx(data: bytes, limits: Limits) -> str:
    open_checked(data, "XLSX", limits).close()
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True
        )
    except XLSX_ERRORS:
        raise DocumentError(
            "The XLSX file is corrupt or unreadable.", reason=CORRUPT_FILE
        ) from None
    lines: list[str] = []
    size = 0
    try:
        for sheet in workbook.worksheets:
            lines.append(f"# {sheet.title}")
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if value is None else str(value) for value in row]
                if any(cells):
                    line = " | ".join(cells).rstrip(" |")
                    lines.append(line)
                    size += len(line)
                if size > limits.max_chars:
                    break
    except XLSX_ERRORS:
        raise DocumentError(
            "The XLSX file is corrupt or unreadable.", reason=CORRUPT_FILE
        ) from None
    finally:
        workbook.close()
    return "\n".join(lines)
