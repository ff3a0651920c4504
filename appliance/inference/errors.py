from __future__ import annotations

from appliance.errors import PermanentError, TransientError


class EngineUnavailable(TransientError):
    """The engine did not respond, timed out or is overloaded."""

    reason = "engine_unavailable"
    message = "The inference engine did not respond. The job will retry."


class EngineRejected(PermanentError):
    """The engine refused the request as malformed (HTTP 4xx)."""

    reason = "engine_rejected"
    message = "The inference engine rejected the request."


class ModelOutputInvalid(PermanentError):
    """The model's answer is not valid JSON for the requested schema."""

    reason = "model_output_invalid"
    message = "The model's answer did not match the expected format."
