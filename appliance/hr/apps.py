from django.apps import AppConfig


class HrConfig(AppConfig):
    name = "appliance.hr"
    label = "hr"
    verbose_name = "HR policy questions"
