"""The policy in force: the newest published version, seeded from
``policies.yaml`` (or APPLIANCE_ESCALATION_POLICY_FILE) on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.escalation import policy
from appliance.escalation.errors import NotAllowed
from appliance.escalation.models import PolicyVersion


def _seed_path() -> Path:
    configured = settings.ESCALATION_POLICY_FILE
    return Path(configured) if configured else policy.SEED_FILE


def current() -> PolicyVersion:
    """Return the newest policy version, loading the seed when none exists."""
    latest = PolicyVersion.objects.order_by("-version").first()
    if latest is not None:
        return latest
    document = policy.read_seed(_seed_path())
    try:
        with transaction.atomic():
            seeded = PolicyVersion.objects.create(
                version=1,
                document=document,
                source=PolicyVersion.Source.SEED,
                comment=f"seed {_seed_path().name}",
            )
            _audit(seeded, None)
    except IntegrityError:
        # Another process seeded it first.
        return PolicyVersion.objects.order_by("-version").first() or current()
    return seeded


def publish(document: Any, actor: User, comment: str = "") -> PolicyVersion:
    """Validate ``document`` and publish it as the next version."""
    if not actor.has_perm("escalation.manage_escalation_policy"):
        raise NotAllowed("Only administrators may publish escalation policies.")
    valid = policy.validate(document)
    current()
    with transaction.atomic():
        # Serialize publishers so that version numbers never collide.
        PolicyVersion.objects.select_for_update().order_by("-version").first()
        top = PolicyVersion.objects.aggregate(top=Max("version"))["top"] or 0
        published = PolicyVersion.objects.create(
            version=top + 1,
            document=valid,
            source=PolicyVersion.Source.EDIT,
            comment=comment[:200],
            created_by=actor,
        )
        _audit(published, actor)
    return published


def _audit(version: PolicyVersion, actor: User | None) -> None:
    record(
        "escalation.policy_published",
        actor=actor,
        object_type="escalation_policy",
        object_id=version.version,
        details={"version": version.version, "source": version.source},
    )
