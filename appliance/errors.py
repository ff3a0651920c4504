"""Exception bases shared by every app.

A failure is either transient (worth retrying: an engine that does not answer)
or permanent (retrying cannot help: a corrupt file, an analyzer that failed).
Each carries a stable ``reason`` code that ends up on the job and in the API,
and a ``message`` a person can act on, which never quotes user content.
"""

from __future__ import annotations


class ApplianceError(Exception):
    reason = "internal_error"
    message = "The appliance failed to process the request."

    def __init__(self, message: str | None = None, *, reason: str | None = None):
        if message is not None:
            self.message = message
        if reason is not None:
            self.reason = reason
        super().__init__(self.message)


class TransientError(ApplianceError):
    """A failure that may pass: the work keeps its input and is retried."""


class PermanentError(ApplianceError):
    """A failure that retrying the same input cannot fix."""
