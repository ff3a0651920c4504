"""Annotate files with the same pipeline the workers run.

    python manage.py annotate PATH_OR_DIR... [--json] [--export FILE]
        [--user NAME]

Directories are searched recursively (hidden files skipped). The files
become one batch owned by the named appliance account, processed in this
process: extraction, redaction, the rules, the model, the audit trail, as
through the API. A progress bar goes to standard error on a terminal, one
line per file otherwise. --export writes the batch as JSON Lines or CSV, by
the file's suffix.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm  # type: ignore[import-untyped]

from appliance.accounts.models import User
from appliance.annotation import batches, export
from appliance.annotation.models import BatchItem
from appliance.annotation.services import process_job, result_for
from appliance.jobs import execution
from appliance.jobs.models import Job

DEFAULT_USER_VARIABLE = "APPLIANCE_CLI_USER"
EXPORT_SUFFIXES = (".jsonl", ".csv")


class Command(BaseCommand):
    help = "Annotate files and directories of files; print one result per file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", type=Path, help="Files or directories to annotate."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object per file."
        )
        parser.add_argument(
            "--export",
            type=Path,
            help="Also write the results to this .jsonl or .csv file.",
        )
        parser.add_argument(
            "--user",
            default=os.environ.get(DEFAULT_USER_VARIABLE, "operator"),
            help="Appliance account that owns the annotations (default: "
            f"${DEFAULT_USER_VARIABLE}, else 'operator').",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self.user(options["user"])
        target = options["export"]
        if target is not None and target.suffix not in EXPORT_SUFFIXES:
            raise CommandError("--export must name a .jsonl or a .csv file.")
        paths = files_under(options["paths"])
        if not paths:
            raise CommandError("No files found under the given paths.")

        uploads, unreadable = [], []
        for path in paths:
            try:
                uploads.append(batches.Upload(str(path), read_bounded(path)))
            except OSError as exc:
                unreadable.append(path)
                message = f"Cannot read the file: {exc.strerror}."
                self.emit({"path": str(path), "error": message}, options["json"])
            except ValueError as exc:
                unreadable.append(path)
                self.emit({"path": str(path), "error": str(exc)}, options["json"])
        if not uploads:
            raise CommandError("None of the files could be read.")

        batch = batches.submit_batch(user, uploads, enqueue=False)
        failures = len(unreadable)
        with self.progress(len(uploads)) as bar:
            for item in batches.items(batch):
                report = self.run(item, user)
                failures += report["state"] != "succeeded"
                self.emit(report, options["json"])
                bar.update(1)
                if bar.disable:
                    self.stderr.write(
                        f"[{item.position}/{len(uploads)}] {report['path']}: "
                        f"{report['state']}"
                    )

        if target is not None:
            body = (
                export.to_csv(batch, user)
                if target.suffix == ".csv"
                else export.to_jsonl(batch, user)
            )
            target.write_text(body, encoding="utf-8")
        if failures:
            raise CommandError(
                f"{failures} of {len(paths)} files could not be annotated "
                f"(batch {batch.id})."
            )

    def user(self, name: str) -> User:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(
                f"No active appliance account named {name!r}. Create one with "
                "'manage.py create_user NAME --role staff' or pass --user."
            )
        if not user.has_perm("jobs.submit_job"):
            raise CommandError(
                f"The account {name!r} may not submit jobs; give it the staff role."
            )
        return user

    def progress(self, total: int) -> Any:
        return tqdm(
            total=total,
            unit="file",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
        )

    def run(self, item: BatchItem, user: User) -> dict[str, Any]:
        outcome = execution.execute(str(item.job_id), process_job)
        while outcome.retry_in is not None:
            time.sleep(outcome.retry_in)
            outcome = execution.execute(str(item.job_id), process_job)
        job = Job.objects.get(id=item.job_id)
        report: dict[str, Any] = {
            "path": batches.filename(item),
            "job_id": str(job.id),
            "state": job.state,
        }
        if job.reason:
            report["reason"] = job.reason
        result = result_for(job, user)
        if result is not None:
            report["result"] = result
        return report

    def emit(self, report: dict[str, Any], as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        if "error" in report:
            self.stdout.write(f"{report['path']}: error: {report['error']}")
            return
        result = report.get("result")
        if result is None:
            self.stdout.write(
                f"{report['path']}: {report['state']} ({report.get('reason', '')})"
            )
            return
        self.stdout.write(
            f"{report['path']}: {result['document_type']}, "
            f"{result['classification']}, retention {result['retention']}, "
            f"language {result['language']}, tags {', '.join(result['tags']) or '-'}"
        )


def files_under(paths: list[Path]) -> list[Path]:
    """List the files named and the files in the directories named, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                child
                for child in path.rglob("*")
                if child.is_file()
                and not any(part.startswith(".") for part in child.parts[-1:])
            )
        else:
            found.append(path)
    return found


def read_bounded(path: Path) -> bytes:
    """Read at most MAX_UPLOAD_BYTES, so that a huge or endless file (a
    device, a pipe) fails fast instead of filling memory."""
    limit = settings.MAX_UPLOAD_BYTES
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"The file is larger than {limit} bytes.")
    return data
