"""Job metadata for administrators: who, what, when and how it ended.

Administrators configure the appliance but do not read job content, so no
payload appears here and jobs cannot be changed from the admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from appliance.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
