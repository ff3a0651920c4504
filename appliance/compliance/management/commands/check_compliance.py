"""Check files for compliance with the same pipeline the workers run.

    python manage.py check_compliance PATH... [--json | --json-array]
        [--user NAME] [--rulebook ID] [--channel C] [--product P]
        [--audience A]

Each file becomes a job owned by the named appliance account and is processed
in this process: redaction, patterns, the model, the audit trail and the
review of a fail or needs_review verdict, exactly as through the API. With
--json, one JSON object per file is printed per line; with --json-array, one
array once every file is done. A file that cannot be read or checked gets an
"error" object of its own and the other files go on.

Exit status: 0 when every file passed; 1 when any file could not be
checked; 3 when all were checked but any verdict is fail or needs_review.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.accounts.models import User
from appliance.compliance.rulebook import DEFAULT_RULEBOOK
from appliance.compliance.services import check_options, process_job, result_for
from appliance.compliance.store import rulebook_ids
from appliance.documents.errors import FILE_TOO_LARGE
from appliance.documents.extraction import DocumentError, extract
from appliance.documents.limits import DEFAULT_LIMITS
from appliance.jobs import execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload

DEFAULT_USER_VARIABLE = "APPLIANCE_CLI_USER"
# Exit status when every file was checked but some verdict is not pass.
FLAGGED_STATUS = 3


class Command(BaseCommand):
    help = "Check files for compliance and print one verdict per file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Files to check.")
        output = parser.add_mutually_exclusive_group()
        output.add_argument(
            "--json", action="store_true", help="Print one JSON object per line."
        )
        output.add_argument(
            "--json-array",
            action="store_true",
            help="Print one JSON array of the files' reports at the end.",
        )
        parser.add_argument(
            "--user",
            default=os.environ.get(DEFAULT_USER_VARIABLE, "operator"),
            help="Appliance account that owns the checks (default: "
            f"${DEFAULT_USER_VARIABLE}, else 'operator').",
        )
        parser.add_argument(
            "--rulebook", default=DEFAULT_RULEBOOK, help="Rulebook id to check against."
        )
        for name in ("channel", "product", "audience"):
            parser.add_argument(
                f"--{name}",
                help=f"The texts' {name}; rules limited to other values are skipped.",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(
                f"No active appliance account named {options['user']!r}. Create one "
                "with 'manage.py create_user NAME --role staff' or pass --user."
            )
        if not user.has_perm("jobs.submit_job"):
            raise CommandError(
                f"The account {user.username!r} may not submit jobs; give it the "
                "staff role."
            )
        if options["rulebook"] not in rulebook_ids():
            raise CommandError(
                f"Unknown rulebook {options['rulebook']!r}. Choose one of: "
                + ", ".join(sorted(rulebook_ids()))
                + "."
            )
        job_options = check_options(
            options["rulebook"],
            channel=options.get("channel"),
            product=options.get("product"),
            audience=options.get("audience"),
        )
        reports = []
        for path in options["paths"]:
            report = self.check_file(path, user, job_options)
            reports.append(report)
            if not options["json_array"]:
                self.emit(report, as_json=options["json"])
        if options["json_array"]:
            self.stdout.write(json.dumps(reports, ensure_ascii=False))

        failures = sum(report.get("state") != "succeeded" for report in reports)
        if failures:
            raise CommandError(
                f"{failures} of {len(reports)} files could not be checked."
            )
        flagged = sum(
            report["result"]["verdict"] != "pass"
            for report in reports
            if "result" in report
        )
        if flagged:
            raise CommandError(
                f"{flagged} of {len(reports)} files did not pass the check.",
                returncode=FLAGGED_STATUS,
            )

    def check_file(
        self, path: Path, user: User, job_options: dict[str, Any]
    ) -> dict[str, Any]:
        report: dict[str, Any] = {"path": str(path)}
        try:
            extracted = extract(read_bounded(path, DEFAULT_LIMITS.max_bytes))
        except OSError as exc:
            report["error"] = {
                "code": "unreadable",
                "message": f"Cannot read the file: {exc.strerror}.",
            }
            return report
        except DocumentError as exc:
            report["error"] = {"code": exc.reason, "message": exc.message}
            return report

        job = jobs.submit(
            user,
            Workload.COMPLIANCE_CHECK,
            text=extracted.full_text(),
            source={"filename": path.name, "content_type": extracted.content_type},
            options=job_options,
            enqueue=False,
        )
        outcome = execution.execute(str(job.id), process_job)
        while outcome.retry_in is not None:
            time.sleep(outcome.retry_in)
            outcome = execution.execute(str(job.id), process_job)
        job = Job.objects.get(id=job.id)
        report.update({"job_id": str(job.id), "state": job.state})
        if job.reason:
            report["reason"] = job.reason
        result = result_for(job, user)
        if result is not None:
            report["result"] = result
        return report

    def emit(self, report: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        if "error" in report:
            self.stdout.write(f"{report['path']}: error: {report['error']['message']}")
            return
        result = report.get("result")
        if result is None:
            self.stdout.write(
                f"{report['path']}: {report['state']} ({report.get('reason', '')})"
            )
            return
        self.stdout.write(f"{report['path']}: {result['verdict']}")
        for finding in result["findings"]:
            self.stdout.write(
                f"  {finding['status']:<12} {finding['rule_id']} {finding['title']}"
                f" [{finding['start']}:{finding['end']}]"
            )


def read_bounded(path: Path, limit: int) -> bytes:
    """Read at most ``limit`` bytes, so that a huge file or an endless one
    (a device, a pipe) fails fast instead of filling memory."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise DocumentError(
            f"The file is larger than {limit // (1024 * 1024)} MB.",
            reason=FILE_TOO_LARGE,
        )
    return data
