"""System checks that catch configuration mistakes at start-up rather than
at the first job."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from appliance.inference import registry
from appliance.jobs.models import Workload


@checks.register("appliance")
def check_engines(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The engines file parses, names known workloads only, and every workload
    has an engine."""
    registry.reset()
    try:
        routed = registry.routed_workloads()
        for workload in Workload.values:
            registry.engine_for(workload)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="appliance.E001")]
    unknown = sorted(set(routed) - set(Workload.values))
    if unknown:
        return [
            checks.Error(
                f"The engines file routes unknown workloads: {', '.join(unknown)}.",
                hint=f"Known workloads: {', '.join(Workload.values)}.",
                id="appliance.E002",
            )
        ]
    return []
