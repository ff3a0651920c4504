from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "appliance.privacy"
    label = "privacy"
    verbose_name = "Privacy: redaction and pseudonym vault"
