"""Show the escalation policy in force, or publish a new version.

    python manage.py escalation_policy show --user NAME
    python manage.py escalation_policy publish FILE --comment TEXT --user NAME

A published file becomes the next version; earlier versions stay, and each
request records the version it was evaluated against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.escalation import versions
from appliance.escalation.cli import add_account_arguments, sign_in
from appliance.escalation.errors import NotAllowed
from appliance.escalation.policy import InvalidPolicy


class Command(BaseCommand):
    help = "Show or publish the escalation policy."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("show", help="Print the policy in force as YAML.")
        publish = actions.add_parser("publish", help="Publish a YAML policy file.")
        publish.add_argument("file", type=Path)
        publish.add_argument("--comment", default="", help="Why it changed.")
        for sub in actions.choices.values():
            add_account_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        user = sign_in(options)
        if not user.has_perm("escalation.manage_escalation_policy"):
            raise CommandError("Only administrators may read or publish policies.")
        if options["action"] == "show":
            current = versions.current()
            self.stdout.write(f"# version {current.version} ({current.source})")
            self.stdout.write(yaml.safe_dump(current.document, sort_keys=False))
            return
        path: Path = options["file"]
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            published = versions.publish(document, user, options["comment"])
        except (InvalidPolicy, NotAllowed) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Published escalation policy version {published.version}.")
