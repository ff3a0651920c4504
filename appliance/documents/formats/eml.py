"""E-mail messages (RFC 5322, MIME) with the standard library's parser.

The text is the main headers (From, To, Cc, Date, Subject) and the body,
plain text preferred over HTML. Attachments come back as raw parts; the
dispatcher extracts each one like any other file.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import quopri
from dataclasses import dataclass
from email.message import EmailMessage

from appliance.documents.errors import CORRUPT_FILE, DocumentError
from appliance.documents.formats.html import html_to_text

HEADERS = ("From", "To", "Cc", "Date", "Subject")


@dataclass(frozen=True)
class RawAttachment:
    filename: str
    data: bytes


@dataclass(frozen=True)
class MailText:
    text: str
    attachments: list[RawAttachment]


def read_eml(data: bytes) -> MailText:
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        lines = [
            f"{name}: {message[name]}" for name in HEADERS if message[name] is not None
        ]
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            content = body.get_content()
            if body.get_content_subtype() == "html":
                content = html_to_text(content)
            lines += ["", content]
        attachments = []
        for part in message.iter_attachments():
            payload = _attachment_bytes(part)
            if payload is not None:
                attachments.append(
                    RawAttachment(filename=part.get_filename() or "", data=payload)
                )
    except (LookupError, ValueError, TypeError, AssertionError, UnicodeError):
        raise DocumentError(
            "The e-mail message is malformed.", reason=CORRUPT_FILE
        ) from None
    return MailText(text="\n".join(lines), attachments=attachments)


def _attachment_bytes(part: EmailMessage) -> bytes | None:
    """The attachment's bytes; a forwarded message is re-serialized."""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_content()
        if not isinstance(inner, EmailMessage):
            return None
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in ("base64", "quoted-printable"):
            return _decoded_message(inner, encoding)
        return bytes(inner)
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else None


def _decoded_message(inner: EmailMessage, encoding: str) -> bytes | None:
    """The bytes of a forwarded message sent with a transfer encoding.

    RFC 2046 forbids encoding a message/rfc822 part, but some mailers do (and
    Python's own ``add_attachment`` with bytes does). The parser then reads
    the encoded text as a message without headers, so it is decoded here.
    """
    body = inner.get_payload()
    if not isinstance(body, str):
        return None
    data = body.encode("ascii", errors="replace")
    try:
        if encoding == "base64":
            return base64.b64decode(data)
        return quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return None
