from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "appliance.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from appliance.audit import signals

        signals.connect()
