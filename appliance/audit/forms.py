"""Forms of the auditors' console. Times are entered and shown in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms

from appliance.accounts.models import User
from appliance.audit.access import MAX_REASON, MIN_REASON

TIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"})


class UtcDateTimeField(forms.DateTimeField):
    """A datetime-local input read as UTC, whatever the server's zone."""

    widget = TIME_INPUT

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        return parsed.replace(tzinfo=UTC) if parsed else None


class EventFilter(forms.Form):
    actor = forms.CharField(required=False, max_length=150, help_text="Name or id.")
    action = forms.CharField(required=False, max_length=64)
    object_type = forms.CharField(required=False, max_length=64)
    object_id = forms.CharField(required=False, max_length=64)
    start = UtcDateTimeField(required=False, label="From (UTC)")
    end = UtcDateTimeField(required=False, label="To (UTC)")

    def clean_actor(self) -> int | None:
        value = self.cleaned_data["actor"].strip()
        if not value:
            return None
        if value.isdigit():
            return int(value)
        user = User.objects.filter(username=value).first()
        if user is None:
            raise forms.ValidationError(f"No account named {value!r}.")
        return user.pk

    def summary(self) -> dict[str, str]:
        """The filters applied, as short strings for the audit event."""
        return {
            name: str(value)[:64]
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }


class RevealForm(forms.Form):
    reason = forms.CharField(
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Why you need to read this entry's encrypted fields. "
        "The reason is recorded in the log.",
    )


class ExportForm(forms.Form):
    start = UtcDateTimeField(label="From (UTC)")
    end = UtcDateTimeField(label="To (UTC)")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start >= end:
            raise forms.ValidationError("The start must be before the end.")
        return cleaned


class AccessForm(forms.Form):
    username = forms.CharField(max_length=150)
    allowed = forms.BooleanField(required=False)

    def clean_username(self) -> User:
        user = User.objects.filter(username=self.cleaned_data["username"]).first()
        if user is None:
            raise forms.ValidationError("No such account.")
        return user
