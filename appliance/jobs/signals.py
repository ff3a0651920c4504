"""Signals other apps subscribe to without the jobs app importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that moved a job to succeeded or failed has
# committed. Arguments: job_id (UUID), owner_id, workload, state, reason.
job_finished = Signal()
