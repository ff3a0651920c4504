from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "appliance.annotation"
    label = "annotation"
    verbose_name = "File annotation"

    def ready(self) -> None:
        from appliance.annotation import checks  # noqa: F401  registers the check
