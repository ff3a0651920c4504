"""Add every policy document in a directory to the policy library.

    python manage.py ingest_policies DIR [--policy-version V] [--effective-from DATE]
        [--team NAME]... [--user NAME] [--enqueue]

A ``policies.yaml`` in DIR may list the files with their metadata::

    - file: leave.md
      title: Leave types
      version: "2026-01"
      effective_from: 2026-01-01
      teams: [Engineering]      # absent or empty: everyone

Without it every file in DIR is taken (not ``*.source.txt`` provenance
notes), titled by its front matter, its first top-level heading or its name.
Passages are indexed in this process unless --enqueue hands them to workers.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from appliance.accounts.models import Team, User
from appliance.documents.extraction import DocumentError
from appliance.hr import chunking, library

MANIFEST = "policies.yaml"
SKIPPED_SUFFIXES = (".source.txt",)


class Command(BaseCommand):
    help = "Add the policy documents in a directory to the HR policy library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--policy-version",
            default="1",
            help="Version name of every policy added (default 1).",
        )
        parser.add_argument(
            "--effective-from",
            type=date.fromisoformat,
            default=None,
            help="Date (YYYY-MM-DD) the versions take effect (default today).",
        )
        parser.add_argument(
            "--team",
            action="append",
            default=[],
            help="Restrict the policies to this team; repeat for several.",
        )
        parser.add_argument(
            "--user",
            default=os.environ.get("APPLIANCE_CLI_USER", ""),
            help="Account recorded as the uploader (default: none).",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue indexing for the workers instead of indexing here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No appliance account named {options['user']!r}.")
        defaults = {
            "version": options["policy_version"],
            "effective_from": options["effective_from"] or timezone.localdate(),
            "teams": options["team"],
        }
        failures = 0
        for entry in entries(directory, defaults):
            failures += not self.ingest(entry, user, enqueue=options["enqueue"])
        if failures:
            raise CommandError(f"{failures} policy documents could not be added.")

    def ingest(
        self, entry: dict[str, Any], user: User | None, *, enqueue: bool
    ) -> bool:
        path: Path = entry["path"]
        try:
            data = path.read_bytes()
            upload = library.Upload(
                data=data,
                filename=path.name,
                title=entry.get("title") or title_of(data, path),
                version=str(entry["version"]),
                effective_from=_date(entry["effective_from"]),
                policy_key=entry.get("key") or path.stem,
                teams=tuple(_teams(entry.get("teams") or [])),
            )
            version = library.add_version(upload, uploaded_by=user, enqueue=enqueue)
        except OSError as exc:
            self.stderr.write(f"{path}: cannot read the file ({exc.strerror}).")
            return False
        except DocumentError as exc:
            self.stderr.write(f"{path}: {exc.message}")
            return False
        except library.PolicyConflict:
            self.stdout.write(f"{path}: version {entry['version']} exists; skipped.")
            return True
        state = "queued" if enqueue else library.index_version(version.id)
        self.stdout.write(f"{path}: {upload.title} v{upload.version} {state}")
        return state != "failed"


def entries(directory: Path, defaults: dict[str, Any]) -> list[dict[str, Any]]:
    manifest = directory / MANIFEST
    if manifest.exists():
        try:
            listed = yaml.safe_load(manifest.read_text(encoding="utf-8")) or []
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"{manifest} cannot be read: {exc}") from None
        if not isinstance(listed, list):
            raise CommandError(f"{manifest} must be a list of files with metadata.")
        return [
            {**defaults, **item, "path": directory / str(item["file"])}
            for item in listed
        ]
    return [
        {**defaults, "path": path}
        for path in sorted(directory.iterdir())
        if path.is_file()
        and not path.name.startswith(".")
        and not path.name.endswith(SKIPPED_SUFFIXES)
    ]


def title_of(data: bytes, path: Path) -> str:
    """The front matter title, the first top-level heading, or the name."""
    text = data[:20_000].decode("utf-8", errors="replace")
    title = chunking.front_matter_title(text)
    if title:
        return title
    for line in chunking.clean(text).splitlines():
        if line.startswith("# ") and line[2:].strip():
            return line[2:].strip()
    return path.stem.replace("_", " ").replace("-", " ").capitalize()


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _teams(names: list[str]) -> list[Team]:
    teams = []
    for name in names:
        team = Team.objects.filter(name=name).first()
        if team is None:
            raise CommandError(f"No team named {name!r}.")
        teams.append(team)
    return teams
