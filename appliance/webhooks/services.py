"""Registering webhook endpoints and delivering signed job notifications.

Each delivery is a POST of a small JSON document with ids and states only,
signed with the endpoint's secret:

    X-Appliance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>

where the HMAC covers ``<t>.`` followed by the exact body bytes. A receiver
recomputes it with its copy of the secret and rejects old timestamps. Failed
attempts are retried with exponential backoff; the sweeper re-sends
deliveries whose message was lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appliance import crypto
from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.webhooks.models import Delivery, Endpoint

logger = logging.getLogger(__name__)

EVENT_JOB_FINISHED = "job.finished"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
MAX_BACKOFF = 3600.0
# A pending delivery this far past its time has lost its message.
OVERDUE_AFTER = timedelta(minutes=2)


class WebhookError(ValueError):
    """A webhook URL the appliance will not call; the message says why."""


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str


def _aad(endpoint_id: object) -> bytes:
    return f"webhook-secret:{endpoint_id}".encode()


def check_url(url: str) -> None:
    """Raise WebhookError unless ``url`` is http(s) to an allowed host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("The webhook URL must be an http:// or https:// URL.")
    if parts.username or parts.password:
        raise WebhookError("The webhook URL must not contain credentials.")
    allowed = {host.lower() for host in settings.WEBHOOK_ALLOWED_HOSTS}
    if parts.hostname.lower() not in allowed:
        raise WebhookError(
            "The webhook URL's host is not in APPLIANCE_WEBHOOK_ALLOWED_HOSTS. "
            "Ask an administrator to allow it."
        )


def create_endpoint(owner: User, url: str, description: str = "") -> CreatedEndpoint:
    """Register ``url`` for ``owner``'s job notifications. The secret is
    returned once; only a sealed copy is stored."""
    check_url(url)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = Endpoint(owner=owner, url=url, description=description)
    endpoint.secret_sealed = crypto.seal(secret.encode(), aad=_aad(endpoint.id))
    endpoint.save()
    record(
        "webhook.created",
        actor=owner,
        object_type="webhook",
        object_id=endpoint.id,
        details={"host": urlsplit(url).hostname or ""},
    )
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def disable_endpoint(endpoint: Endpoint, actor: User) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.PENDING).update(
        state=Delivery.State.FAILED, last_result="endpoint_disabled"
    )
    record(
        "webhook.disabled", actor=actor, object_type="webhook", object_id=endpoint.id
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def on_job_finished(sender: Any, **job: Any) -> None:
    """Queue one delivery per active endpoint of the job's owner."""
    endpoints = list(Endpoint.objects.filter(owner_id=job["owner_id"], is_active=True))
    if not endpoints:
        return
    payload = {
        "event": EVENT_JOB_FINISHED,
        "job_id": str(job["job_id"]),
        "workload": job["workload"],
        "state": job["state"],
        "reason": job["reason"] or None,
        "finished_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        deliveries = [
            Delivery.objects.create(
                endpoint=endpoint, event=EVENT_JOB_FINISHED, payload=payload
            )
            for endpoint in endpoints
        ]
    for delivery in deliveries:
        enqueue(delivery.id)


def enqueue(delivery_id: object, countdown: float = 0) -> None:
    try:
        current_app.send_task(
            "webhooks.deliver", args=[str(delivery_id)], countdown=countdown
        )
    except Exception as exc:  # any broker failure: the sweeper sends it later
        logger.warning(
            "queueing webhook delivery %s failed (%s); the sweeper will retry",
            delivery_id,
            type(exc).__name__,
        )


def backoff(attempts: int) -> float:
    return float(
        min(settings.WEBHOOK_RETRY_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    )


def deliver(delivery_id: str) -> float | None:
    """Make one attempt. Returns the seconds until the next attempt, or None
    when the delivery is finished (delivered or given up)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(id=delivery_id, state=Delivery.State.PENDING)
            .first()
        )
        if delivery is None:
            return None
        early = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if early > 1:
            # A duplicate message (from the sweeper) came before the backoff.
            return early
        delivery.attempts += 1
        result = _post(delivery)
        now = timezone.now()
        delivery.last_result = result
        if result.isdigit() and 200 <= int(result) < 300:
            delivery.state = Delivery.State.DELIVERED
            delivery.delivered_at = now
            delay = None
        elif result in ("endpoint_disabled", "host_not_allowed") or (
            delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
        ):
            delivery.state = Delivery.State.FAILED
            delay = None
        else:
            delay = backoff(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save()
    logger.info(
        "webhook delivery %s attempt %d: %s",
        delivery.id,
        delivery.attempts,
        delivery.last_result,
    )
    return delay


def _post(delivery: Delivery) -> str:
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return "endpoint_disabled"
    try:
        check_url(endpoint.url)
    except WebhookError:
        return "host_not_allowed"
    secret = crypto.unseal(bytes(endpoint.secret_sealed), aad=_aad(endpoint.id))
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "private-ai-appliance-webhooks",
        "X-Appliance-Event": delivery.event,
        "X-Appliance-Delivery": str(delivery.id),
        "X-Appliance-Signature": sign(secret.decode(), int(time.time()), body),
    }
    try:
        response = httpx.post(
            endpoint.url,
            content=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return "timeout"
    except httpx.TransportError as exc:
        return type(exc).__name__[:40]
    return str(response.status_code)


def sweep() -> int:
    """Re-send pending deliveries whose time passed long ago (their message
    was lost); returns how many."""
    overdue = Delivery.objects.filter(
        state=Delivery.State.PENDING,
        next_attempt_at__lt=timezone.now() - OVERDUE_AFTER,
    ).values_list("id", flat=True)[:500]
    count = 0
    for delivery_id in overdue:
        enqueue(delivery_id)
        count += 1
    return count
