"""Create the role groups and their permissions."""

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

from appliance.accounts.roles import ensure_roles


def install_roles(apps: Any, schema_editor: Any) -> None:
    # Permissions are normally created after all migrations ran; create them
    # now so that the groups can reference them.
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
        ("accounts", "0001_initial"),
        ("audit", "0001_initial"),
        ("jobs", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(install_roles, migrations.RunPython.noop)]
