from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "appliance.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        import logging

        from django.conf import settings

        from appliance.api import (  # noqa: F401  (registration on import)
            checks,
            schema,
        )

        logger = logging.getLogger("appliance")
        for notice in getattr(settings, "QUICKSTART_NOTICES", []):
            logger.warning("quick-start mode: %s", notice)
