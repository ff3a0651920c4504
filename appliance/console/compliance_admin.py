"""Rulebooks in the admin console.

Versions are immutable: saving a changed rule, adding a rule or deleting
one creates the rulebook's next version (through
``compliance.store``), which becomes current, and the earlier versions stay
as they were for the verdicts that cite them. Only rules of the current
version can be changed. Every change is written to the audit log twice: as
an admin change and as the new version.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from appliance.compliance import store
from appliance.compliance.models import Rule, Rulebook, RulebookVersion
from appliance.compliance.rulebook import RulebookError, normalize_rule
from appliance.console.admin import AuditedAdmin, ReadOnlyAdmin


@admin.register(Rulebook)
class RulebookAdmin(ReadOnlyAdmin):
    list_display = ("slug", "title", "current")
    fields = ("slug", "title", "current")
    readonly_fields = fields


@admin.register(RulebookVersion)
class RulebookVersionAdmin(ReadOnlyAdmin):
    list_display = (
        "rulebook",
        "number",
        "label",
        "source",
        "created_by",
        "created_at",
    )
    list_filter = ("rulebook",)
    fields = (
        "rulebook",
        "number",
        "label",
        "source",
        "content_hash",
        "created_by",
        "created_at",
    )
    readonly_fields = fields


class RuleForm(forms.ModelForm[Rule]):
    class Meta:
        model = Rule
        fields = (
            "version",
            "rule_id",
            "title",
            "severity",
            "description",
            "instruction",
            "examples",
            "strong",
            "weak",
            "unless",
            "unless_scope",
            "context",
            "channels",
            "products",
            "audiences",
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        try:
            normalize_rule("admin", rule_data_from(cleaned))
        except (RulebookError, TypeError, AttributeError) as exc:
            raise ValidationError(str(exc)) from None
        return cleaned


def rule_data_from(values: dict[str, Any]) -> dict[str, Any]:
    """Rule data in the rulebook format from form or model values."""
    return {
        "id": values.get("rule_id"),
        "title": values.get("title"),
        "severity": values.get("severity"),
        "description": values.get("description"),
        "instruction": values.get("instruction"),
        "examples": values.get("examples") or [],
        "strong": values.get("strong") or [],
        "weak": values.get("weak") or [],
        "unless": values.get("unless") or [],
        "unless_scope": values.get("unless_scope") or "overlap",
        "context": values.get("context") or [],
        "applies_to": {
            "channels": values.get("channels") or [],
            "products": values.get("products") or [],
            "audiences": values.get("audiences") or [],
        },
    }


@admin.register(Rule)
class RuleAdmin(AuditedAdmin):
    form = RuleForm
    list_display = ("rule_id", "title", "severity", "version")
    list_filter = ("version__rulebook", "severity")
    search_fields = ("rule_id", "title")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        return super().get_queryset(request).select_related("version__rulebook")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("version",) if obj is not None else ()

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "version":
            kwargs["queryset"] = RulebookVersion.objects.filter(
                pk__in=Rulebook.objects.values("current")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _is_current(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and obj is not None and _is_current(obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk deletion would bypass versioning; delete rules one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self, request: HttpRequest, obj: Rule, form: Any, change: bool
    ) -> None:
        data = rule_data_from(form.cleaned_data | {"version": obj.version})
        user: Any = request.user
        if change:
            original = Rule.objects.get(pk=obj.pk)
            version = store.revise_rule(original, data, user)
        else:
            version = store.add_rule(obj.version.rulebook, data, user)
        new = version.rules.get(rule_id=data["id"])
        obj.pk = new.pk
        obj.version = version

    def delete_model(self, request: HttpRequest, obj: Rule) -> None:
        user: Any = request.user
        store.revise_rule(obj, {}, user, delete=True)


def _is_current(rule: Rule) -> bool:
    return bool(rule.version.rulebook.current_id == rule.version_id)
