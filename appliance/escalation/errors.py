"""Errors of the escalation services. Each has a stable ``reason`` code for
the API and the CLI, and a message that quotes no content."""

from __future__ import annotations

from appliance.errors import PermanentError


class EscalationError(PermanentError):
    reason = "escalation_failed"
    message = "The escalation request failed."


class NotAllowed(EscalationError):
    """The user's role or relation to the job or request forbids the action."""

    reason = "permission_denied"


class InvalidState(EscalationError):
    """The request is not in a state that allows the action."""

    reason = "invalid_state"


class Expired(EscalationError):
    reason = "expired"
    message = "The request has expired. Ask for a new escalation."


class BodyMismatch(EscalationError):
    reason = "body_changed"
    message = (
        "The SHA-256 given does not match the request's body. Fetch the request "
        "again, review the body it shows, and approve that."
    )


class SecondFactorRequired(EscalationError):
    reason = "second_factor_required"
    message = (
        "Approvals need a current one-time password from the approver's "
        "authenticator app (field 'otp')."
    )


class ProviderNotConfigured(EscalationError):
    reason = "provider_not_configured"
