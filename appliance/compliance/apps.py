from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "appliance.compliance"
    label = "compliance"
    verbose_name = "Compliance checks"
