from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def sync_roles(**kwargs: Any) -> None:
    """Bring the role groups in line with ROLE_PERMISSIONS after every
    migrate, so that a change to a role's permissions needs no migration."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from appliance.accounts.roles import ensure_roles

    using = kwargs.get("using", "default")
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    ensure_roles(Group, Permission)


class AccountsConfig(AppConfig):
    name = "appliance.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(sync_roles, sender=self)
