from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "appliance.webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from appliance.jobs.signals import job_finished
        from appliance.webhooks import services

        job_finished.connect(services.on_job_finished, dispatch_uid="webhooks")
