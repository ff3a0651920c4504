"""Administration of users, teams and API keys.

An API key created here is shown once, in the confirmation message; only its
digest is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from appliance.accounts.models import ApiKey, Team, User
from appliance.accounts.services import KEY_PREFIX, issue_api_key, revoke_api_key


@admin.register(User)
class ApplianceUserAdmin(UserAdmin[User]):
    list_display = ("username", "team", "is_service_account", "is_active", "last_login")
    list_filter = ("groups", "team", "is_service_account", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Appliance", {"fields": ("team", "is_service_account")}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
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
    fields = ("user", "name", "expires_at")
    actions = ["revoke"]

    @admin.display(description="Key")
    def masked(self, key: ApiKey) -> str:
        return f"{KEY_PREFIX}_{key.prefix}_…"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key's owner and name are fixed once issued; revoke and issue anew.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiKey, form: Any, change: bool
    ) -> None:
        issued = issue_api_key(obj.user, obj.name, expires_at=obj.expires_at)
        obj.pk = issued.key.pk
        obj.prefix = issued.key.prefix
        self.message_user(
            request,
            f"API key issued. Copy it now; it is not shown again: {issued.plaintext}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            revoke_api_key(key)
        self.message_user(request, f"Revoked {queryset.count()} keys.")
