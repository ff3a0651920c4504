"""Give the admin role the permission to grant and revoke revealing audit
fields, which the audit app's migration 0004 adds. Permissions of apps not
migrated yet are left to the post-migrate role sync."""

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

from appliance.accounts.roles import ensure_roles


def install_roles(apps: Any, schema_editor: Any) -> None:
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_roles(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        skip_missing=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("audit", "0005_append_only_log"),
    ]

    operations = [migrations.RunPython(install_roles, migrations.RunPython.noop)]
