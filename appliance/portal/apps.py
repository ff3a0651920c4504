from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "appliance.portal"
    label = "portal"
    verbose_name = "Staff portal"

    def ready(self) -> None:
        from appliance.portal import signals

        signals.connect()
