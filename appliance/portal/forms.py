"""Portal forms. They validate input only, and the views pass the cleaned
data to services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from appliance.compliance import store
from appliance.compliance.rulebook import DEFAULT_RULEBOOK
from appliance.documents.extraction import DocumentError, extract


def _rulebook_choices() -> list[tuple[str, str]]:
    """Return (id, title) of every rulebook with a current version."""
    return [
        (rulebook_id, store.load(rulebook_id).title)
        for rulebook_id in sorted(store.rulebook_ids())
    ]


class SignInForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username")
        self.fields["password"].widget.attrs.update(autocomplete="current-password")


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="Six-digit code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the six digits your app shows."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "maxlength": "8",
            }
        ),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()


class ComplianceCheckForm(forms.Form):
    """Text pasted in or a file; exactly one of the two."""

    text = forms.CharField(
        label="Text to check",
        required=False,
        strip=False,
        max_length=settings.MAX_INPUT_CHARS,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    file = forms.FileField(
        label="Or upload a file (PDF, DOCX, HTML or plain text)",
        required=False,
    )
    rulebook = forms.ChoiceField(label="Rulebook", initial=DEFAULT_RULEBOOK)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rulebook = self.fields["rulebook"]
        assert isinstance(rulebook, forms.ChoiceField)
        rulebook.choices = _rulebook_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_text = bool(data.get("text", "").strip())
        upload = data.get("file")
        if has_text == (upload is not None):
            raise forms.ValidationError(
                "Paste a text or choose a file: one of the two, not both."
            )
        if upload is None:
            data["source"] = {}
            return data

        if upload.size > settings.MAX_UPLOAD_BYTES:
            self.add_error(
                "file", f"The file is larger than {settings.MAX_UPLOAD_BYTES} bytes."
            )
            return data
        try:
            extracted = extract(upload.read())
        except DocumentError as error:
            self.add_error("file", error.message)
            return data
        text = extracted.full_text()
        if len(text) > settings.MAX_INPUT_CHARS:
            self.add_error(
                "file",
                f"The file contains {len(text)} characters of text, more than the "
                f"{settings.MAX_INPUT_CHARS} one check accepts. Split the document.",
            )
            return data
        data["text"] = text
        data["source"] = {
            "filename": upload.name,
            "content_type": extracted.content_type,
        }
        return data
