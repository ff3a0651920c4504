from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def seed_rulebooks(**kwargs: Any) -> None:
    """Load the shipped rulebook files after every migrate (idempotent), so
    that a fresh or flushed database always has the starter rulebooks. No
    audit event: the audit log may not be ready while migrating."""
    from appliance.compliance.store import load_rulebook_files

    load_rulebook_files(audit=False)


class ComplianceConfig(AppConfig):
    name = "appliance.compliance"
    label = "compliance"
    verbose_name = "Compliance checks"

    def ready(self) -> None:
        post_migrate.connect(seed_rulebooks, sender=self)
