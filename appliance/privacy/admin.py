"""Admin pages for the recognizer registry: overrides of recognizers.yaml and
allow-list and deny-list terms. A change is checked by building the whole
registry with it before it is saved, recorded in the audit log, and picked
up by every worker within PRIVACY_REGISTRY_REFRESH seconds.

The vault's tables have no admin page: their values are sealed, and a list
of who was redacted where would itself expose people.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from appliance.audit.services import record
from appliance.privacy import overrides
from appliance.privacy.models import RecognizerOverride, RegistryTerm
from appliance.privacy.registry import RegistryError


def _check(override: RecognizerOverride | None, term: RegistryTerm | None) -> None:
    """Build the registry with the edited row; ValidationError if it fails."""
    rows = [
        r
        for r in RecognizerOverride.objects.all()
        if r.pk != getattr(override, "pk", 0)
    ]
    terms = [t for t in RegistryTerm.objects.all() if t.pk != getattr(term, "pk", 0)]
    try:
        overrides.config_with(
            rows + ([override] if override else []), terms + ([term] if term else [])
        )
    except RegistryError as exc:
        raise forms.ValidationError(str(exc)) from None


class RecognizerOverrideForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = RecognizerOverride
        fields = [
            "name",
            "enabled",
            "entity",
            "countries",
            "patterns",
            "context",
            "terms",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not self.errors:
            candidate = RecognizerOverride(pk=self.instance.pk, **cleaned)
            _check(candidate, None)
        return cleaned


class RegistryTermForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = RegistryTerm
        fields = ["list", "value", "entity", "is_pattern"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not self.errors:
            _check(None, RegistryTerm(pk=self.instance.pk, **cleaned))
        return cleaned


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    object_type = ""

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        record(
            "privacy.registry_changed",
            actor=request.user,
            object_type=self.object_type,
            object_id=obj.pk,
            details={"change": "edited" if change else "added"},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        object_id = obj.pk
        super().delete_model(request, obj)
        record(
            "privacy.registry_changed",
            actor=request.user,
            object_type=self.object_type,
            object_id=object_id,
            details={"change": "deleted"},
        )


@admin.register(RecognizerOverride)
class RecognizerOverrideAdmin(AuditedAdmin):
    form = RecognizerOverrideForm
    object_type = "recognizer_override"
    list_display = ("name", "enabled", "entity", "updated_at")
    search_fields = ("name", "entity")


@admin.register(RegistryTerm)
class RegistryTermAdmin(AuditedAdmin):
    form = RegistryTermForm
    object_type = "registry_term"
    list_display = ("list", "value", "entity", "is_pattern", "updated_at")
    list_filter = ("list",)
