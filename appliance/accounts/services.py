"""Account operations: roles, teams and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from appliance.accounts.models import ApiKey, Team, User, all_scopes
from appliance.accounts.roles import Role, ensure_roles

KEY_PREFIX = "apk"


def install_roles() -> None:
    ensure_roles(Group, Permission)


def assign_role(user: User, role: Role | str) -> None:
    """Add ``user`` to a role's group; admins also get Django admin access."""
    role = Role(role)
    group = Group.objects.filter(name=role.value).first()
    if group is None:
        install_roles()
        group = Group.objects.get(name=role.value)
    user.groups.add(group)
    if role is Role.ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def create_user(
    username: str,
    *,
    roles: list[Role | str],
    team: Team | None = None,
    password: str | None = None,
    service_account: bool = False,
) -> User:
    with transaction.atomic():
        user = User(username=username, team=team, is_service_account=service_account)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        for role in roles:
            assign_role(user, role)
    return user


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: ``plaintext`` is shown once and never stored."""

    key: ApiKey
    plaintext: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(
    user: User,
    name: str,
    *,
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
    rate_limit_per_minute: int | None = None,
) -> IssuedKey:
    """Create an API key for ``user`` with ``scopes`` (every scope when None).

    The secret has 256 bits of entropy, so a plain SHA-256 digest is enough
    to store it (no slow hash needed). Raises ValueError for an unknown or
    empty list of scopes.
    """
    chosen = all_scopes() if scopes is None else sorted(set(scopes))
    unknown = set(chosen) - set(all_scopes())
    if not chosen or unknown:
        raise ValueError(f"Scopes must be one or more of {', '.join(all_scopes())}.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        secret_digest=_digest(secret),
        expires_at=expires_at,
        scopes=chosen,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    return IssuedKey(key=key, plaintext=f"{KEY_PREFIX}_{prefix}_{secret}")


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def find_api_key(plaintext: str) -> ApiKey | None:
    """Return the active key matching ``plaintext``, or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, prefix, secret = parts
    key = (
        ApiKey.objects.active()
        .select_related("user")
        .filter(prefix=prefix, user__is_active=True)
        .first()
    )
    if key is None:
        # Compare anyway so that a wrong prefix costs as long as a wrong secret.
        hmac.compare_digest(_digest(secret), "0" * 64)
        return None
    if not hmac.compare_digest(_digest(secret), key.secret_digest):
        return None
    return key
