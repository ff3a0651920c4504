"""The audit log's operations.

    python manage.py audit sequencer                 run the sequencer process
    python manage.py audit verify [--since SIZE | --last] [--json]
    python manage.py audit verify --bundle FILE      check an evidence bundle
    python manage.py audit export --from T --to T -o FILE [--link SIZE ...]
    python manage.py audit status
    python manage.py audit rotate-key [--scope 2026-12]
    python manage.py audit rewrap
    python manage.py audit shred (--scope 2026-11 | --actor ID) --yes [--force]
    python manage.py audit grant-reveal USERNAME --by ADMIN
    python manage.py audit revoke-reveal USERNAME --by ADMIN

``verify`` exits with status 1 when the log fails and names the first bad
entry; 0 when it holds.
"""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from appliance.accounts.models import User
from appliance.audit import access, config, keyops, sequencer, verification
from appliance.audit.bundle import ExportError, export_bundle
from appliance.audit.bundle_check import BundleInvalid, verify_bundle
from appliance.audit.health import chain_status
from appliance.audit.models import VerificationRun


def _time(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None or moment.tzinfo is None:
        raise CommandError(
            f"{value!r} is not a time with a zone; write it like 2026-12-04T10:00:00Z"
        )
    return moment


class Command(BaseCommand):
    help = "Run the audit sequencer, verify and export the log, manage its keys."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("sequencer", help="Sequence events and sign checkpoints.")
        verify = actions.add_parser("verify", help="Verify the log or a bundle.")
        verify.add_argument(
            "--since", type=int, help="Start at the exported checkpoint at or below "
            "this tree size instead of at the first entry."
        )  # fmt: skip
        verify.add_argument(
            "--last", action="store_true",
            help="Start where the last successful verification ended.",
        )  # fmt: skip
        verify.add_argument("--bundle", type=Path, help="Check this bundle instead.")
        verify.add_argument("--json", action="store_true", help="Print JSON.")
        export = actions.add_parser("export", help="Write an evidence bundle.")
        export.add_argument("--from", dest="start", required=True, help="ISO time.")
        export.add_argument("--to", dest="end", required=True, help="ISO time.")
        export.add_argument("-o", "--output", type=Path, required=True)
        export.add_argument(
            "--link", type=int, action="append", default=[],
            help="Also link the exported checkpoint of this tree size.",
        )  # fmt: skip
        actions.add_parser("status", help="Show the chain status.")
        rotate = actions.add_parser("rotate-key", help="Retire current data keys.")
        rotate.add_argument("--scope", help="Only this scope, e.g. 2026-12.")
        actions.add_parser("rewrap", help="Rewrap data keys under the current KEK.")
        shred = actions.add_parser("shred", help="Destroy data keys (irreversible).")
        target = shred.add_mutually_exclusive_group(required=True)
        target.add_argument("--scope", help="A month, e.g. 2026-11.")
        target.add_argument("--actor", type=int, help="Every key of this actor id.")
        shred.add_argument("--yes", action="store_true", required=True)
        shred.add_argument("--force", action="store_true")
        for name in ("grant-reveal", "revoke-reveal"):
            grant = actions.add_parser(name, help=f"{name.split('-')[0]} revealing.")
            grant.add_argument("username")
            grant.add_argument("--by", required=True, help="The administrator.")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action'].replace('-', '_')}")(options)

    def handle_sequencer(self, options: dict[str, Any]) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        config.signing_key()  # fail at start, not at the first checkpoint
        sequencer.run(lambda: stopping)

    def handle_verify(self, options: dict[str, Any]) -> None:
        if options["bundle"] is not None:
            self._verify_bundle(options["bundle"])
            return
        full = options["since"] is None and not options["last"]
        since = options["since"]
        if options["last"]:
            last = VerificationRun.objects.filter(ok=True).first()
            since = last.checked_size if last else 0
        run, report = verification.run_verification(full=full, since=since)
        result = {
            "ok": report.ok,
            "mode": run.mode,
            "from_size": report.from_size,
            "log_size": report.log_size,
            "checked": report.checked,
            "exported_size": report.exported_size,
            "signed_size": report.signed_size,
            "not_yet_checkpointed": report.uncovered,
            "first_bad_index": report.first_bad_index,
            "problems": report.problems,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        elif report.ok:
            self.stdout.write(
                f"OK: {report.checked} entries checked from {report.from_size}; "
                f"{report.signed_size} covered by signed checkpoints, "
                f"{report.uncovered} not yet checkpointed."
            )
        else:
            self.stdout.write(f"FAILED: first bad entry {report.first_bad_index}")
            for problem in report.problems:
                self.stdout.write(f"  - {problem}")
        if not report.ok:
            raise SystemExit(1)

    def _verify_bundle(self, path: Path) -> None:
        try:
            summary = verify_bundle(path.read_bytes(), config.trusted_keys())
        except OSError as exc:
            raise CommandError(f"{path} cannot be read ({exc.strerror})") from None
        except BundleInvalid as exc:
            self.stdout.write(f"INVALID: {exc}")
            raise SystemExit(1) from None
        self.stdout.write(
            f"VALID: {summary.entries} entries from {summary.first_seq}, tree of "
            f"{summary.tree_size} entries, log {summary.log_id}"
        )

    def handle_export(self, options: dict[str, Any]) -> None:
        try:
            exported = export_bundle(
                _time(options["start"]),
                _time(options["end"]),
                actor=None,
                links=options["link"],
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        options["output"].write_bytes(exported.data)
        self.stdout.write(
            f"Wrote {exported.count} entries ({exported.first_seq} to "
            f"{exported.end_seq - 1}) of a tree of {exported.tree_size} to "
            f"{options['output']}."
        )

    def handle_status(self, options: dict[str, Any]) -> None:
        status = chain_status()
        checkpoint = status.last_checkpoint
        self.stdout.write(f"tree size: {status.size}")
        self.stdout.write(f"waiting for the sequencer: {status.backlog}")
        if checkpoint is not None:
            exported = checkpoint.exported_at
            self.stdout.write(
                f"last checkpoint: size {checkpoint.size}, signed "
                f"{checkpoint.signed_at.isoformat()}, exported "
                f"{exported.isoformat() if exported else 'no'}"
            )
        run = status.last_run
        if run is not None:
            self.stdout.write(
                f"last verification: {run.mode} {'ok' if run.ok else 'FAILED'} at "
                f"{run.started_at.isoformat()}"
            )
        self.stdout.write(
            "status: " + ("ok" if status.ok else "; ".join(status.problems))
        )
        if not status.ok:
            raise SystemExit(1)

    def handle_rotate_key(self, options: dict[str, Any]) -> None:
        count = keyops.rotate(options["scope"])
        self.stdout.write(f"Retired {count} data keys; new versions start on use.")

    def handle_rewrap(self, options: dict[str, Any]) -> None:
        count = keyops.rewrap()
        self.stdout.write(f"Rewrapped {count} data keys under the current KEK.")

    def handle_shred(self, options: dict[str, Any]) -> None:
        try:
            result = keyops.shred(
                scope=options["scope"],
                actor_id=options["actor"],
                force=options["force"],
            )
        except keyops.KeyOperationError as exc:
            raise CommandError(str(exc)) from None
        scopes = ", ".join(result.scopes) or "none"
        self.stdout.write(
            f"Destroyed {result.keys} data keys ({scopes}). Their entries stay in "
            "the log and still verify, but can no longer be read."
        )

    def _users(self, options: dict[str, Any]) -> tuple[User, User]:
        admin = User.objects.filter(username=options["by"]).first()
        user = User.objects.filter(username=options["username"]).first()
        if admin is None or not access.can_manage(admin):
            raise CommandError(f"{options['by']!r} may not manage audit access.")
        if user is None:
            raise CommandError(f"No account named {options['username']!r}.")
        return admin, user

    def handle_grant_reveal(self, options: dict[str, Any]) -> None:
        admin, user = self._users(options)
        access.set_reveal(admin, user, allowed=True)
        self.stdout.write(f"{user.username} may now reveal encrypted audit fields.")

    def handle_revoke_reveal(self, options: dict[str, Any]) -> None:
        admin, user = self._users(options)
        access.set_reveal(admin, user, allowed=False)
        self.stdout.write(f"{user.username} may no longer reveal audit fields.")
