"""Run the stuck-job sweeper once (the beat schedule runs it periodically)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from appliance.jobs.execution import sweep


class Command(BaseCommand):
    help = "Re-enqueue stuck jobs and fail those past their delivery limit."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sweep()
        self.stdout.write(
            f"Re-enqueued {len(report.requeued)} jobs, failed {len(report.failed)}."
        )
