"""The Celery app. Its configuration comes from Django settings (CELERY_*).

Queues: ``compliance`` for compliance checks, ``maintenance`` for the sweeper,
each with the optional APPLIANCE_QUEUE_PREFIX. Start a worker with::

    DJANGO_SETTINGS_MODULE=appliance.settings.production \
        celery -A workers worker -Q compliance,maintenance

and one beat process (``celery -A workers beat``) for the sweeper.
"""

from __future__ import annotations

from celery import Celery

app = Celery("appliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["workers.tasks"]
