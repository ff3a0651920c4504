from __future__ import annotations

from appliance.errors import PermanentError


class RedactionFailed(PermanentError):
    """The analyzer failed or ran out of time: the text cannot be vouched
    for, so no model sees it."""

    reason = "redaction_failed"
    message = "Redaction failed, so the text was not sent to any model."


class PayloadBlocked(PermanentError):
    """The final payload still contains an identifier, so the model call is
    rejected."""

    reason = "payload_blocked"
    message = (
        "The request to the model still contained an identifier after "
        "redaction, so it was not sent."
    )


class ReidentificationDenied(Exception):
    """Only the owner of a scope may see its original values."""


class InputTooLarge(PermanentError):
    """A text is longer than the analyzer accepts in one piece."""

    reason = "invalid_input"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"The text is {length} characters long; redaction accepts at most "
            f"{limit} characters per field. Split the text, or stream the file "
            "with `manage.py redact`, which reads it in chunks."
        )
        self.length = length
        self.limit = limit
