from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "appliance.annotation"
    label = "annotation"
    verbose_name = "File annotation"
