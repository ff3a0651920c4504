from __future__ import annotations

from appliance.errors import PermanentError


class RedactionFailed(PermanentError):
    """The analyzer failed: the text cannot be redacted, so no model sees it."""

    reason = "redaction_failed"
    message = "Redaction failed, so the text was not sent to any model."


class PayloadBlocked(PermanentError):
    """The final payload still holds an identifier; the model call is refused."""

    reason = "payload_blocked"
    message = (
        "The request to the model still contained an identifier after "
        "redaction, so it was not sent."
    )


class ReidentificationDenied(Exception):
    """Only the owner of a scope may see its original values."""
