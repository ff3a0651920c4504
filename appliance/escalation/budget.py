"""Team budgets: what a team has spent or committed in the current month.

Sent requests count at the cost the provider reported. Approved and
in-flight ones count at their estimate, so two approved requests cannot
both pass a check that only one of them fits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from appliance.escalation.models import EscalationRequest, State

# First key of the PostgreSQL advisory lock that serializes budget checks
# per team; the second key is the team id (0 for no team).
_LOCK_CLASS = 0x45534331  # "ESC1"


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def team_spend(team_id: int | None, *, exclude: uuid.UUID | None = None) -> Decimal:
    """Return the team's spend this month, sent plus committed."""
    requests = EscalationRequest.objects.filter(created_at__gte=month_start())
    requests = (
        requests.filter(team_id=team_id)
        if team_id is not None
        else requests.filter(team__isnull=True)
    )
    if exclude is not None:
        requests = requests.exclude(id=exclude)
    sent = requests.filter(state=State.SENT).aggregate(total=Sum("cost"))["total"]
    committed = requests.filter(state__in=(State.APPROVED, State.SENDING)).aggregate(
        total=Sum("estimated_cost")
    )["total"]
    return (sent or Decimal(0)) + (committed or Decimal(0))


def lock_team(team_id: int | None) -> None:
    """Hold the team's budget lock until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, team_id or 0]
        )
