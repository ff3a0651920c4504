"""Roles as Django groups, and the permissions each one carries.

A role grants what a kind of user may do; it never grants reading another
person's job content. Content is visible to its owner only, and to the
reviewer a job is routed to (see ``jobs.models.JobQuerySet.visible_to``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    STAFF = "staff"
    HR_ADMIN = "hr_admin"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"


# "app_label.codename" for each role. Custom codenames are declared in the
# Meta.permissions of the models they guard.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.STAFF: ("jobs.submit_job", "escalation.request_escalation"),
    Role.HR_ADMIN: ("jobs.submit_job", "hr.manage_policies", "hr.review_feedback"),
    Role.REVIEWER: (
        "jobs.submit_job",
        "jobs.review_job",
        "escalation.request_escalation",
        "compliance.review_compliance",
    ),
    Role.APPROVER: (
        "jobs.submit_job",
        "escalation.request_escalation",
        "escalation.approve_escalation",
    ),
    Role.AUDITOR: ("audit.view_audit_log",),
    Role.ADMIN: (
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_team",
        "accounts.add_team",
        "accounts.change_team",
        "accounts.view_apikey",
        "accounts.add_apikey",
        "accounts.change_apikey",
        "auth.view_group",
        # Job metadata (owner, state, timing) in the admin; never content.
        "jobs.view_job",
        "inference.view_modelcall",
        # Grant and revoke revealing audit fields per user; never read them.
        "audit.manage_audit_access",
        "escalation.manage_escalation_policy",
        "escalation.export_distillation",
        # Compliance rulebooks: an edit creates a new version (see the
        # compliance app's admin).
        "compliance.view_rulebook",
        "compliance.view_rulebookversion",
        "compliance.view_rule",
        "compliance.add_rule",
        "compliance.change_rule",
    ),
}


def ensure_roles(
    group_model: Any, permission_model: Any, *, skip_missing: bool = False
) -> None:
    """Create the role groups and set their permissions; safe to run again.

    Takes the models as arguments so that a migration can pass its historical
    models. A migration passes ``skip_missing`` because apps migrated after it
    have no permissions yet; the post-migrate sync then completes the roles.
    """
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        permissions = []
        for name in names:
            app_label, codename = name.split(".", 1)
            found = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None and not skip_missing:
                raise LookupError(f"permission {name} does not exist")
            if found is not None:
                permissions.append(found)
        group.permissions.set(permissions)
