"""Prepare the quick start's accounts and print them as JSON.

Creates the ``admin`` account (admin role) with a generated password the
first time, and the ``operator`` account (staff role) that the printed API
key and the CLI act as. Every run issues a fresh quick-start API key for
``operator`` and revokes the previous ones, so a key is only ever printed
once. Not for production: create accounts with create_user and api_key there.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from appliance.accounts.models import ApiKey, User
from appliance.accounts.roles import Role
from appliance.accounts.services import (
    create_user,
    install_roles,
    issue_api_key,
    revoke_api_key,
)
from appliance.audit.services import record

ADMIN = "admin"
OPERATOR = "operator"
KEY_NAME = "quick start"


class Command(BaseCommand):
    help = "Create the quick start's admin and operator accounts and a fresh API key."

    def handle(self, *args: Any, **options: Any) -> None:
        install_roles()
        with transaction.atomic():
            admin_password = None
            if not User.objects.filter(username=ADMIN).exists():
                admin_password = secrets.token_urlsafe(12)
                create_user(ADMIN, roles=[Role.ADMIN], password=admin_password)
            operator = User.objects.filter(username=OPERATOR).first()
            if operator is None:
                operator = create_user(
                    OPERATOR, roles=[Role.STAFF], service_account=True
                )
            for key in ApiKey.objects.active().filter(user=operator, name=KEY_NAME):
                revoke_api_key(key)
            issued = issue_api_key(operator, KEY_NAME)
            record(
                "api_key.issued",
                object_type="api_key",
                object_id=issued.key.prefix,
                details={"user_id": operator.pk, "via": "quickstart"},
            )
        self.stdout.write(
            json.dumps(
                {
                    "admin_user": ADMIN,
                    "admin_password": admin_password,
                    "api_user": OPERATOR,
                    "api_key": issued.plaintext,
                }
            )
        )
