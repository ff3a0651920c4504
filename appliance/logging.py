"""Log context: the request, job and task ids that every log line carries.

Log lines carry ids only. Text a person submitted, names, prompts and keys are
never passed to a logger.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

_context: ContextVar[dict[str, str] | None] = ContextVar("log_context", default=None)


@contextlib.contextmanager
def log_context(**ids: str) -> Iterator[None]:
    """Add ids (request_id, job_id, task_id...) to log lines inside the block."""
    merged = {**(_context.get() or {}), **{key: str(v) for key, v in ids.items()}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    """Sets ``record.context`` to `` [key=value ...]`` for the current ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _context.get() or {}
        request_id = getattr(getattr(record, "request", None), "request_id", None)
        if request_id and "request_id" not in ids:
            # Django logs a request's 4xx/5xx line after the middleware that
            # sets the context has returned; the request still carries its id.
            ids = {"request_id": str(request_id), **ids}
        pairs = " ".join(f"{key}={value}" for key, value in ids.items())
        record.context = f" [{pairs}]" if pairs else ""
        return True
