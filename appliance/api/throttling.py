"""Per-API-key rate limits, counted in PostgreSQL so that every web server
process shares one count.

The count is kept per fixed one-minute window, so a client can make up to
twice its limit across a window boundary. The limit bounds load and is not a
billing meter. Requests signed in with a browser session are not limited
here.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from appliance.accounts.models import ApiKey
from appliance.api.models import RateWindow

WINDOW = timedelta(minutes=1)

_COUNT_SQL = f"""
    INSERT INTO {RateWindow._meta.db_table} (key_id, window_start, count)
    VALUES (%s, %s, 1)
    ON CONFLICT (key_id, window_start)
    DO UPDATE SET count = {RateWindow._meta.db_table}.count + 1
    RETURNING count
"""  # noqa: S608 - the table name comes from the model, values are parameters


def limit_for(key: ApiKey) -> int:
    return key.rate_limit_per_minute or settings.API_KEY_RATE_LIMIT


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.retry_after = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        now = timezone.now()
        window_start = now.replace(second=0, microsecond=0)
        with connection.cursor() as cursor:
            cursor.execute(_COUNT_SQL, [key.pk, window_start])
            (count,) = cursor.fetchone()
        if count == 1:
            # First request of a new window: the key's older windows are done.
            RateWindow.objects.filter(key=key, window_start__lt=window_start).delete()
        if count <= limit_for(key):
            return True
        self.retry_after = (window_start + WINDOW - now).total_seconds()
        return False

    def wait(self) -> float | None:
        return float(max(1, math.ceil(self.retry_after)))
