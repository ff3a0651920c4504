"""Admin console pages beyond the model admin: usage and cost, and the live
state of engines, queues and workers. Both show metadata only, never job
content."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from appliance.console import status, usage

PERIODS = (1, 7, 30, 90)
CHART_WIDTH = 360


def _require_admin(request: HttpRequest) -> None:
    if not request.user.has_perm("inference.view_modelcall"):
        raise PermissionDenied


def _bars(groups: list[usage.Group]) -> list[dict[str, object]]:
    """Bar lengths, in pixels of CHART_WIDTH, for the local and external cost
    of each workload on one scale."""
    costs = [cost for g in groups for cost in (g.local_cost, g.external_cost)]
    largest = max([Decimal(0), *costs])

    def scale(cost: Decimal) -> int:
        return int(cost / largest * CHART_WIDTH) if largest else 0

    return [
        {
            "group": group,
            # A non-zero cost stays visible as at least one pixel.
            "local": max(scale(group.local_cost), 1 if group.local_cost else 0),
            "external": scale(group.external_cost),
        }
        for group in groups
    ]


def usage_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in PERIODS:
        days = 30
    current = usage.report(days)
    return TemplateResponse(
        request,
        "admin/console/usage.html",
        {
            **admin.site.each_context(request),
            "title": "Usage and cost",
            "report": current,
            "periods": PERIODS,
            "bars": _bars(current.by_workload),
            "chart_width": CHART_WIDTH,
        },
    )


def status_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return TemplateResponse(
        request,
        "admin/console/status.html",
        {
            **admin.site.each_context(request),
            "title": "Engines, queues and workers",
            "engines": status.engines(),
            "queues": status.queues(),
            "workers": status.workers(),
        },
    )
