"""List, show, approve and reject escalation requests as a named account.

    python manage.py escalations list --user NAME [--state pending]
    python manage.py escalations show ID --user NAME
    python manage.py escalations approve ID --sha256 HEX --reason TEXT --user NAME
    python manage.py escalations reject ID --sha256 HEX --reason TEXT --user NAME
    python manage.py escalations send-approved --user NAME

``show`` prints the exact body that would be sent and its SHA-256; an
approval names that SHA-256, so it approves those bytes and no others.
``send-approved`` publishes the send task again for approved requests whose
first publish failed (administrators only).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.accounts.models import User
from appliance.escalation import services
from appliance.escalation.cli import add_account_arguments, sign_in
from appliance.escalation.errors import EscalationError
from appliance.escalation.models import EscalationRequest, State


class Command(BaseCommand):
    help = "List, show, approve or reject escalation requests."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Requests you may see.")
        listing.add_argument("--state", choices=State.values)
        show = actions.add_parser("show", help="One request with its exact body.")
        show.add_argument("id")
        for name in ("approve", "reject"):
            decide = actions.add_parser(name, help=f"{name.capitalize()} a request.")
            decide.add_argument("id")
            decide.add_argument(
                "--sha256",
                required=True,
                help="SHA-256 of the body you reviewed (from 'show').",
            )
            decide.add_argument("--reason", required=True)
            decide.add_argument("--otp", help="One-time password, when required.")
        actions.add_parser(
            "send-approved", help="Publish the send task for approved requests."
        )
        for sub in actions.choices.values():
            add_account_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        user = sign_in(options)
        action = options["action"]
        if action == "list":
            self.list(user, options["state"])
        elif action == "show":
            self.show(user, options["id"])
        elif action == "send-approved":
            self.send_approved(user)
        else:
            self.decide(user, action, options)

    def find(self, user: User, request_id: str) -> EscalationRequest:
        found = services.visible_to(user).filter(id=request_id).first()
        if found is None:
            raise CommandError(f"No escalation request {request_id} that you may see.")
        services.expire_if_due(found)
        return found

    def list(self, user: User, state: str | None) -> None:
        requests = services.visible_to(user).select_related("requester")
        if state:
            requests = requests.filter(state=state)
        for request in requests:
            self.stdout.write(
                f"{request.id}  {request.state:<9} {request.classification:<12} "
                f"{request.provider}/{request.model}  "
                f"requested by {request.requester.username}  "
                f"est. {request.estimated_cost}  "
                f"approvals {request.approvals.filter(decision='approve').count()}"
                f"/{request.approvals_required}"
            )

    def show(self, user: User, request_id: str) -> None:
        request = self.find(user, request_id)
        body = services.read_body(request, user)
        summary = {
            "id": str(request.id),
            "state": request.state,
            "classification": request.classification,
            "provider": request.provider,
            "model": request.model,
            "body_sha256": request.body_sha256,
            "estimated_cost": str(request.estimated_cost),
            "approvals_required": request.approvals_required,
            "evaluation": request.evaluation,
        }
        self.stdout.write(json.dumps(summary, indent=2))
        self.stdout.write("--- body (exact bytes that will be sent) ---")
        self.stdout.write(body.decode("utf-8"))

    def decide(self, user: User, action: str, options: dict[str, Any]) -> None:
        request = self.find(user, options["id"])
        decide = services.approve if action == "approve" else services.reject
        try:
            request = decide(
                request,
                user,
                body_sha256=options["sha256"].lower(),
                reason=options["reason"],
                otp=options.get("otp"),
            )
        except EscalationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{request.id} is now {request.state}.")

    def send_approved(self, user: User) -> None:
        if not user.has_perm("escalation.manage_escalation_policy"):
            raise CommandError("Only administrators may publish send tasks again.")
        published = 0
        for request in EscalationRequest.objects.filter(state=State.APPROVED):
            if not services.expire_if_due(request):
                published += services.publish_send(str(request.id))
        self.stdout.write(f"Published {published} send tasks.")
