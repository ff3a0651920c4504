"""Create an appliance account with roles and, optionally, a team."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.accounts.models import Team, User
from appliance.accounts.roles import Role
from appliance.accounts.services import create_user


class Command(BaseCommand):
    help = "Create an appliance account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            choices=[role.value for role in Role],
            required=True,
            help="Role to grant; repeat for several.",
        )
        parser.add_argument("--team", help="Team (department) name; created if new.")
        parser.add_argument(
            "--service-account",
            action="store_true",
            help="An account for an enterprise system: API keys only, no password.",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of prompting.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"An account named {username!r} already exists.")
        password = None
        if not options["service_account"]:
            password = self.read_password(options["password_stdin"])
            try:
                validate_password(password, User(username=username))
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        team = None
        if options["team"]:
            team, _ = Team.objects.get_or_create(name=options["team"])
        create_user(
            username,
            roles=options["role"],
            team=team,
            password=password,
            service_account=options["service_account"],
        )
        self.stdout.write(
            f"Created {username} with roles {', '.join(options['role'])}."
        )

    def read_password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
