"""Zip containers (DOCX, XLSX) are checked before any parser opens them."""

from __future__ import annotations

import io
import zipfile

from appliance.documents.errors import CORRUPT_FILE, FILE_TOO_LARGE, DocumentError
from appliance.documents.limits import Limits


def open_checked(data: bytes, kind: str, limits: Limits) -> zipfile.ZipFile:
    """Open ``data`` as a zip archive after checking its declared sizes.

    The sizes come from the archive's directory, so a bomb is caught before a
    byte is inflated. A member that lies about its size fails later with
    BadZipFile (a CRC or length mismatch), which callers report as corrupt.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DocumentError(
            f"The {kind} file is corrupt (not a readable zip container).",
            reason=CORRUPT_FILE,
        ) from None
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise DocumentError(
            f"The {kind} file has more than {limits.max_members} parts.",
            reason=FILE_TOO_LARGE,
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise DocumentError(
            f"The {kind} file expands to more than "
            f"{limits.max_uncompressed_bytes // (1024 * 1024)} MB; it is rejected "
            "as a possible zip bomb.",
            reason=FILE_TOO_LARGE,
        )
    for member in members:
        compressed = max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and (
            member.file_size / compressed > limits.max_compression_ratio
        ):
            raise DocumentError(
                f"A part of the {kind} file expands more than "
                f"{limits.max_compression_ratio} times; it is rejected as a "
                "possible zip bomb.",
                reason=FILE_TOO_LARGE,
            )
    return archive
