"""The private AI appliance: a Django project with one app per domain concept."""

# Load the Celery app whenever Django loads, so that the web process publishes
# with the configured broker and routes.
from workers.celery import app as celery_app

__all__ = ["celery_app"]
