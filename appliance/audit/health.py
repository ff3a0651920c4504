"""The audit log's health: the last verification, the sequencer's backlog
and the checkpoint export. ``/healthz`` turns unavailable when any of them
fails, so a broken or tampered log is noticed without anyone looking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from appliance.audit.models import Checkpoint, SequencerState, VerificationRun

BACKLOG_SQL = """
SELECT count(*), min(p.occurred_at)
FROM audit_event p
WHERE (p.txid, p.id) > (%s, %s)
"""
# Events newer than the last one sequenced but with a lower transaction id:
# transaction ids went backwards (see sequencer.py), so they would never be
# taken.
STRANDED_SQL = """
SELECT EXISTS (SELECT 1 FROM audit_event p WHERE p.id > %s AND p.txid < %s)
"""


@dataclass
class ChainStatus:
    size: int
    backlog: int
    oldest_pending: datetime | None
    heartbeat_at: datetime | None
    last_checkpoint: Checkpoint | None
    unexported_since: datetime | None
    last_run: VerificationRun | None
    stranded: bool = False

    @property
    def problems(self) -> list[str]:
        found = []
        limit = timedelta(seconds=settings.AUDIT_MAX_LAG_SECONDS)
        now = timezone.now()
        if self.last_run is not None and not self.last_run.ok:
            found.append(
                f"verification failed at entry {self.last_run.first_bad_index}"
            )
        if self.stranded:
            found.append(
                "events have lower transaction ids than the last one sequenced "
                "(restored from a logical dump?)"
            )
        if self.oldest_pending is not None and now - self.oldest_pending > limit:
            found.append("events are waiting for the sequencer")
        if self.unexported_since is not None and now - self.unexported_since > limit:
            found.append("checkpoints are not reaching the sink")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


def chain_status() -> ChainStatus:
    state = SequencerState.objects.get_or_create(id=1)[0]
    with connection.cursor() as cursor:
        cursor.execute(BACKLOG_SQL, [state.last_txid, state.last_pending_id])
        backlog, oldest = cursor.fetchone()
        cursor.execute(STRANDED_SQL, [state.last_pending_id, state.last_txid])
        stranded = bool(cursor.fetchone()[0])
    unexported = (
        Checkpoint.objects.filter(exported_at=None).order_by("signed_at").first()
    )
    return ChainStatus(
        size=state.size,
        backlog=int(backlog),
        oldest_pending=oldest,
        heartbeat_at=state.heartbeat_at,
        last_checkpoint=Checkpoint.objects.order_by("-size").first(),
        unexported_since=unexported.signed_at if unexported else None,
        last_run=VerificationRun.objects.exclude(finished_at=None).first(),
        stranded=stranded,
    )


def check() -> str:
    """``ok``, or ``failing (...)`` naming the problems."""
    problems = chain_status().problems
    return "ok" if not problems else f"failing ({'; '.join(problems)})"
