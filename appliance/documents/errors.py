"""Why a file could not be read. Each reason is a stable code for clients."""

from __future__ import annotations

from appliance.errors import PermanentError


class DocumentError(PermanentError):
    """The file cannot be turned into text; ``message`` says why and what to
    do, and never quotes the file's content."""

    reason = "invalid_input"


EMPTY_FILE = "empty_file"
UNSUPPORTED_TYPE = "unsupported_type"
CORRUPT_FILE = "corrupt_file"
ENCRYPTED_FILE = "encrypted_file"
FILE_TOO_LARGE = "file_too_large"
NEEDS_OCR = "needs_ocr"
