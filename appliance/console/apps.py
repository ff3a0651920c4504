from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "appliance.console"
    label = "console"
    verbose_name = "Admin console"
