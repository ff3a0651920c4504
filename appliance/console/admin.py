"""The admin console: users, teams, API keys, job metadata and model calls.

Administrators configure; they never read job content. So, in this console:

- an API key can be issued to a service account only, never to a person, and
  a service account's key reads only the jobs submitted with that key;
- a new key is shown once, on a page of its own that is not cached and not
  carried in a cookie, and only its digest is stored;
- an administrator who is not a superuser cannot grant superuser status or
  single permissions, change their own roles, or set another person's
  password;
- jobs show metadata only (who, what, when, how it ended), never payloads;
- every change made here is written to the audit log as well as to Django's
  own admin history, which an administrator could edit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from appliance.accounts.models import ApiKey, Scope, Team, User, all_scopes
from appliance.accounts.services import KEY_PREFIX, issue_api_key, revoke_api_key
from appliance.audit.services import record
from appliance.inference.models import ModelCall
from appliance.jobs.models import Job


class AuditedAdmin(admin.ModelAdmin[Any]):
    """Writes each add, change and deletion to the audit log as well."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, "admin.added", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, "admin.changed", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            self._audit(request, "admin.deleted", obj, [])
        return super().log_deletions(request, queryset)

    def _audit(
        self, request: HttpRequest, action: str, obj: Model, message: Any
    ) -> None:
        fields: set[str] = set()
        for entry in message if isinstance(message, list) else []:
            for kind in ("added", "changed"):
                fields.update(entry.get(kind, {}).get("fields", []))
        record(
            action,
            actor=request.user,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            details={"fields": sorted(fields)[:20]},
        )


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class ApplianceUserAdmin(AuditedAdmin, UserAdmin[User]):
    list_display = ("username", "team", "is_service_account", "is_active", "last_login")
    list_filter = ("groups", "team", "is_service_account", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Appliance", {"fields": ("team", "is_service_account")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [
                "is_superuser",
                "user_permissions",
                "last_login",
                "date_joined",
            ]
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["groups", "is_staff", "is_active"]
        return readonly

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        if not request.user.is_superuser and str(request.user.pk) != str(id):
            # Setting a person's password would let an administrator sign in
            # as them and read their jobs.
            raise PermissionDenied
        response: HttpResponse = super().user_change_password(request, id, form_url)
        return response


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "created_at")
    fields = ("name",)
    search_fields = ("name",)


class ApiKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=all_scopes,
        help_text="What the key may call.",
    )

    class Meta:
        model = ApiKey
        fields = ("user", "name", "expires_at", "scopes", "rate_limit_per_minute")


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdmin):
    form = ApiKeyForm
    list_display = (
        "name",
        "user",
        "masked",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("user", "name", "expires_at", "scopes", "rate_limit_per_minute")
    actions = ["revoke"]

    @admin.display(description="Key")
    def masked(self, key: ApiKey) -> str:
        return f"{KEY_PREFIX}_{key.prefix}_…"

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(
                is_service_account=True, is_active=True
            )
        field: ModelChoiceField[Any] | None = super().formfield_for_foreignkey(
            db_field, request, **kwargs
        )
        return field

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key's owner and name are fixed once issued; revoke and issue anew.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiKey, form: Any, change: bool
    ) -> None:
        issued = issue_api_key(
            obj.user,
            obj.name,
            expires_at=obj.expires_at,
            scopes=list(obj.scopes),
            rate_limit_per_minute=obj.rate_limit_per_minute,
        )
        obj.pk = issued.key.pk
        obj.prefix = issued.key.prefix
        request._issued_key = issued.plaintext  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None
    ) -> HttpResponse:
        # The key is rendered into this one response, never into a message:
        # Django's messages travel in a cookie.
        response = TemplateResponse(
            request,
            "admin/accounts/apikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "title": "API key issued",
                "key": obj,
                "plaintext": request._issued_key,  # type: ignore[attr-defined]
                "opts": self.model._meta,
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_api_key(key)
            self.log_change(request, key, [{"changed": {"fields": ["revoked_at"]}}])
        self.message_user(request, f"Revoked {queryset.count()} keys.", messages.INFO)


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "workload",
        "owner",
        "team",
        "state",
        "reason",
        "created_at",
        "finished_at",
    )
    list_filter = ("workload", "state", "reason")
    search_fields = ("id", "owner__username")
    fields = (
        "id",
        "workload",
        "owner",
        "team",
        "reviewer",
        "state",
        "reason",
        "input_chars",
        "deliveries",
        "engine_attempts",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "finished_at",
    )
    readonly_fields = fields


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "workload",
        "engine",
        "model",
        "outcome",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
    )
    list_filter = ("workload", "engine", "outcome")


# The admin's index, with links to the usage and status pages.
admin.site.index_template = "admin/console/index.html"


# Registered from a module of its own to keep this one to accounts and jobs.
from appliance.console import compliance_admin  # noqa: E402, F401
