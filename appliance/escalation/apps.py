from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "appliance.escalation"
    label = "escalation"
    verbose_name = "Escalation to external models"
