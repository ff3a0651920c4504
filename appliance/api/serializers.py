from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from appliance.compliance.rulebook import DEFAULT_RULEBOOK
from appliance.compliance.store import rulebook_ids
from appliance.jobs.models import Job, Reason
from appliance.webhooks.models import Endpoint


class ComplianceCheck(serializers.Serializer[Any]):
    """Send either ``text`` (JSON or form field) or ``file`` (multipart)."""

    text = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=settings.MAX_INPUT_CHARS,
        help_text="The text to check.",
    )
    file = serializers.FileField(
        required=False,
        help_text="A PDF, DOCX, HTML or plain-text file to check.",
    )
    rulebook = serializers.CharField(
        default=DEFAULT_RULEBOOK,
        required=False,
        max_length=64,
        help_text="Id of the rulebook to check against.",
    )
    channel = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Where the text will appear (e-mail, social, web); rules "
        "limited to other channels are skipped.",
    )
    product = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The product the text is about; rules limited to other "
        "products are skipped.",
    )
    audience = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Who reads the text (retail, institutional); rules limited "
        "to other audiences are skipped.",
    )

    def validate_rulebook(self, value: str) -> str:
        known = rulebook_ids()
        if value not in known:
            # DRF's default message would repeat the submitted value.
            raise serializers.ValidationError(
                "Unknown rulebook. Choose one of: " + ", ".join(sorted(known)) + "."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_text = bool(attrs.get("text", "").strip())
        has_file = attrs.get("file") is not None
        if has_text == has_file:
            raise serializers.ValidationError("Send exactly one of 'text' or 'file'.")
        upload = attrs.get("file")
        if upload is not None and upload.size > settings.MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                {"file": f"The file is larger than {settings.MAX_UPLOAD_BYTES} bytes."}
            )
        return attrs


REASON_MESSAGES = {
    Reason.ENGINE_UNAVAILABLE: (
        "The inference engine did not answer within the retry window. "
        "Retry the job once the engine is back."
    ),
    Reason.REDACTION_FAILED: (
        "Redaction failed, so the text was not sent to any model."
    ),
    Reason.INVALID_INPUT: "The input could not be read.",
    Reason.ENGINE_REJECTED: (
        "The inference engine rejected the request; the text may be too long "
        "for the model."
    ),
    Reason.MODEL_OUTPUT_INVALID: (
        "The model's answer did not match the expected format."
    ),
    Reason.DELIVERY_LIMIT_EXCEEDED: (
        "Workers stopped while processing this job too many times. Retry it, or "
        "report it if it keeps failing."
    ),
    Reason.PAYLOAD_BLOCKED: (
        "The model request still contained an identifier after redaction, so it "
        "was not sent."
    ),
    Reason.TIMED_OUT: (
        "The job ran past the task time limit (APPLIANCE_TASK_TIME_LIMIT). Retry "
        "it, or split the input."
    ),
    Reason.INTERNAL_ERROR: "The appliance failed while processing the job.",
    Reason.EMPTY_FILE: "The file is empty or contains no text.",
    Reason.UNSUPPORTED_TYPE: (
        "The file type is not supported. Send PDF, DOCX, XLSX, EML, HTML, CSV or text."
    ),
    Reason.CORRUPT_FILE: "The file is corrupt and could not be read.",
    Reason.ENCRYPTED_FILE: "The file is encrypted. Send a copy without a password.",
    Reason.FILE_TOO_LARGE: (
        "The file, or what it expands to, is larger than the limits allow (a zip "
        "bomb is rejected this way). Split it."
    ),
    Reason.NEEDS_OCR: (
        "The PDF has no text layer (a scan) and OCR is not installed on this appliance."
    ),
}


class JobSerializer(serializers.ModelSerializer[Job]):
    reason_message = serializers.SerializerMethodField()
    retry_at = serializers.DateTimeField(source="next_attempt_at", read_only=True)
    result = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "workload",
            "state",
            "reason",
            "reason_message",
            "created_at",
            "updated_at",
            "finished_at",
            "deliveries",
            "engine_attempts",
            "retry_at",
            "result",
        ]
        read_only_fields = fields

    def get_reason_message(self, job: Job) -> str | None:
        if not job.reason:
            return None
        return (
            REASON_MESSAGES.get(Reason(job.reason))
            if job.reason in Reason.values
            else None
        )

    def get_result(self, job: Job) -> dict[str, Any] | None:
        results: dict[str, Any] = self.context.get("results", {})
        value: dict[str, Any] | None = results.get(str(job.id))
        return value


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code.")
    message = serializers.CharField(help_text="What went wrong and what to do.")
    request_id = serializers.CharField(help_text="Identifies the request in logs.")
    # DRF's metaclass collects declared fields before the class is built, so
    # this one may be named like Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="Per-field problems, for invalid_request."
    )


class ErrorSerializer(serializers.Serializer[Any]):
    """The one error shape of the API."""

    error = ErrorDetailSerializer()


ERROR_RESPONSES = {
    status_code: ErrorSerializer
    for status_code in (400, 401, 403, 404, 409, 413, 422, 429)
}


class WebhookSerializer(serializers.ModelSerializer[Endpoint]):
    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "is_active", "created_at"]
        read_only_fields = ["id", "is_active", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signing secret, shown once. Verify X-Appliance-Signature with it.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
