"""Load the shipped rulebook files into the database.

    python manage.py load_rulebooks [--directory DIR]

Safe to run again: a file whose rules are already stored creates nothing.
``migrate`` runs the same loading after every migration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.compliance.rulebook import RULEBOOK_DIR, RulebookError
from appliance.compliance.store import load_rulebook_files


class Command(BaseCommand):
    help = "Load rulebook YAML files; each changed file becomes a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory",
            type=Path,
            default=RULEBOOK_DIR,
            help="Directory of rulebook YAML files (default: the shipped ones).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = load_rulebook_files(options["directory"])
        except RulebookError as exc:
            raise CommandError(str(exc)) from None
        for version in created:
            self.stdout.write(
                f"{version.rulebook.slug}: version {version.number} from "
                f"{version.source}"
            )
        if not created:
            self.stdout.write("All rulebooks are up to date.")
