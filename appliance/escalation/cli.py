"""Signing in an operator for the escalation commands.

A command acts as a named appliance account, never as an anonymous system
user: ``--user NAME`` and that account's password, read from
``--password-file`` (a file readable by the operator alone) or prompted for.
A wrong password is audited like a failed sign-in.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.contrib.auth import authenticate
from django.core.management.base import CommandError, CommandParser
from django.http import HttpRequest

from appliance.accounts.models import User
from appliance.audit.models import Outcome
from appliance.audit.services import record


def add_account_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--user", required=True, help="Appliance account to act as (required)."
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        help="File holding the account's password; prompted for when omitted.",
    )


def sign_in(options: dict[str, Any]) -> User:
    """Return the account named by ``--user`` once its password checks out."""
    username = options["user"]
    path: Path | None = options.get("password_file")
    if path is not None:
        try:
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise CommandError(
                f"Cannot read the password file {path}: {exc.strerror}."
            ) from None
    else:
        password = getpass.getpass(f"Password for {username}: ")
    # django-axes counts failures per request, so the command passes one of
    # its own: failed sign-ins here count towards the account's lockout.
    request = HttpRequest()
    request.method = "POST"
    request.path = "/cli/escalations"
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or user.is_service_account:
        record(
            "auth.cli_denied",
            outcome=Outcome.DENIED,
            details={"command": "escalation"},
            durable=True,
        )
        raise CommandError(
            f"Sign-in as {username!r} failed: wrong password, or no active "
            "person's account of that name."
        )
    return user
