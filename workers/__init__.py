"""Celery workers: the app, its queues and thin task shells around services."""

from workers.celery import app

__all__ = ["app"]
