"""Ask the HR policies a question, with the same service the API uses.

    python manage.py ask "How much annual leave do I earn?" [--json]
        [--user NAME] [--conversation ID] [--as-of YYYY-MM-DD]

With --json one object is printed: the answer, its citations with the quoted
sentences, and whether the question was refused.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.accounts.models import User
from appliance.errors import ApplianceError
from appliance.hr import answering


class Command(BaseCommand):
    help = "Answer a question from the HR policies, with citations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("question")
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument(
            "--user",
            default=os.environ.get("APPLIANCE_CLI_USER", "operator"),
            help="Account that asks (default: $APPLIANCE_CLI_USER, else operator).",
        )
        parser.add_argument(
            "--conversation", type=uuid.UUID, help="Continue this conversation."
        )
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            help="Answer from the policies in effect on this date (YYYY-MM-DD).",
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
                f"The account {user.username!r} may not ask questions; give it the "
                "staff role."
            )
        try:
            answer = answering.ask(
                user,
                options["question"],
                conversation_id=options["conversation"],
                as_of=options["as_of"],
            )
        except answering.ConversationNotFound:
            raise CommandError("No such conversation of yours.") from None
        except ApplianceError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
            return
        self.stdout.write(answer["answer"])
