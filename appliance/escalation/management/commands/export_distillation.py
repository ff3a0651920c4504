"""Export the distillation dataset of one workload as chat-format JSONL.

    python manage.py export_distillation --workload compliance_check \
        --output FILE --user NAME

Each line is one accepted escalation: the redacted messages that were sent,
the provider's answer as it arrived, and the provider and model in
``metadata``. Every export is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.escalation import distillation
from appliance.escalation.cli import add_account_arguments, sign_in
from appliance.escalation.errors import NotAllowed
from appliance.jobs.models import Workload


class Command(BaseCommand):
    help = "Export accepted escalations of a workload as chat-format JSONL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workload", required=True, choices=Workload.values)
        parser.add_argument(
            "--output", required=True, type=Path, help="JSONL file to write."
        )
        add_account_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user = sign_in(options)
        path: Path = options["output"]
        if path.exists():
            raise CommandError(f"{path} exists; choose a new file name.")
        try:
            with path.open("x", encoding="utf-8") as output:
                report = distillation.export(user, options["workload"], output)
        except NotAllowed as exc:
            path.unlink(missing_ok=True)
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Wrote {report.examples} examples to {path} "
            f"({report.skipped} left out: identifiers in the answer)."
        )
