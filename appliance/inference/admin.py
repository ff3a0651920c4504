"""Model calls, read-only: usage, latency and outcome per engine."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from appliance.inference.models import ModelCall


@admin.register(ModelCall)
class ModelCallAdmin(admin.ModelAdmin[ModelCall]):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
