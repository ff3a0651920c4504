"""Issue, list and revoke API keys.

    python manage.py api_key issue USERNAME --name NAME [--days N]
        [--scope SCOPE ...] [--rate-limit PER_MINUTE]
    python manage.py api_key list [USERNAME]
    python manage.py api_key revoke PREFIX

A new key is printed once; only its digest is stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from appliance.accounts.models import ApiKey, User, all_scopes
from appliance.accounts.services import issue_api_key, revoke_api_key
from appliance.audit.services import record

NAME_LENGTH = ApiKey._meta.get_field("name").max_length or 120


class Command(BaseCommand):
    help = "Issue, list and revoke API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        issue = actions.add_parser("issue", help="Issue a key; it is printed once.")
        issue.add_argument("username")
        issue.add_argument("--name", required=True, help="What the key is for.")
        issue.add_argument(
            "--days", type=int, help="Expire after this many days (1 or more)."
        )
        issue.add_argument(
            "--scope",
            action="append",
            choices=all_scopes(),
            help="What the key may call; repeat for several. Default: every scope.",
        )
        issue.add_argument(
            "--rate-limit",
            type=int,
            help="Requests per minute (default: APPLIANCE_API_KEY_RATE_LIMIT).",
        )
        listing = actions.add_parser("list", help="List keys (never their secrets).")
        listing.add_argument("username", nargs="?")
        revoke = actions.add_parser("revoke", help="Revoke a key by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(options)

    def handle_issue(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No account named {options['username']!r}.")
        name = options["name"].strip()
        if not name or len(name) > NAME_LENGTH:
            raise CommandError(f"--name must be 1 to {NAME_LENGTH} characters.")
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be 1 or more; leave it out for no expiry.")
        expires = None
        if options["days"]:
            expires = timezone.now() + timedelta(days=options["days"])
        rate_limit = options["rate_limit"]
        if rate_limit is not None and rate_limit < 1:
            raise CommandError("--rate-limit must be 1 or more requests per minute.")
        issued = issue_api_key(
            user,
            name,
            expires_at=expires,
            scopes=options["scope"],
            rate_limit_per_minute=rate_limit,
        )
        record(
            "api_key.issued",
            object_type="api_key",
            object_id=issued.key.prefix,
            details={
                "user_id": user.pk,
                "via": "cli",
                "scopes": issued.key.scopes,
            },
        )
        self.stdout.write(issued.plaintext)

    def handle_list(self, options: dict[str, Any]) -> None:
        keys = ApiKey.objects.select_related("user")
        if options["username"]:
            keys = keys.filter(user__username=options["username"])
        for key in keys:
            state = "active" if key.is_active else "inactive"
            self.stdout.write(
                f"apk_{key.prefix}_…  {key.user.username:<20} {key.name:<24} "
                f"{state:<8} {','.join(key.scopes)}"
            )

    def handle_revoke(self, options: dict[str, Any]) -> None:
        prefix = options["prefix"].removeprefix("apk_").split("_")[0]
        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No key with prefix {prefix!r}.")
        revoke_api_key(key)
        record(
            "api_key.revoked",
            object_type="api_key",
            object_id=key.prefix,
            details={"user_id": key.user_id, "via": "cli"},
        )
        self.stdout.write(f"Revoked apk_{prefix}_….")
