"""The sequencer: the one process that gives committed events their place
in the log, extends the Merkle tree and signs checkpoints.

Ids in the pending table are assigned at insert, not at commit, so a
transaction holding id 10 may commit after id 11 was read. The sequencer
never reads past such a transaction: it takes only rows written by
transactions whose 64-bit id is below the horizon of its own snapshot
(``pg_snapshot_xmin``), below which every transaction has committed or
rolled back. Any transaction still open has a higher id than every row
taken, so remembering the (transaction id, id) of the last row taken is
enough to take every row exactly once, in that order. A unique index on
``pending_id`` guards against taking one twice.

A session advisory lock keeps a second sequencer waiting. Each batch also
checks the tree size it extends against the state row, and rebuilds from the
sink when they differ.

Checkpoints are signed every APPLIANCE_AUDIT_CHECKPOINT_ENTRIES entries or
APPLIANCE_AUDIT_CHECKPOINT_SECONDS, committed to the database first and then
written to the sink. On start the sequencer rebuilds its tree from the newest
checkpoint in the sink and the entries after it, and refuses to go on when
they disagree: it never signs a tree that does not extend the exported one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from appliance.audit import config
from appliance.audit.canonical import encode_leaf_fields, from_micros, to_micros
from appliance.audit.entries import iter_rows, row_leaf
from appliance.audit.merkle import Frontier, leaf_hash
from appliance.audit.models import Checkpoint, SequencerState
from appliance.audit.signing import Note, public_key_id, sign, verify
from appliance.audit.sink import SinkCheckpoint, SinkError

logger = logging.getLogger(__name__)

ADVISORY_LOCK = 0x61756469745F7371  # "audit_sq"
HEARTBEAT_SECONDS = 5.0
HALT_RETRY_SECONDS = 30.0

PENDING_COLUMNS = """
    p.id,
    uuid_send(p.event_id),
    (extract(epoch FROM p.occurred_at) * 1000000)::bigint,
    p.actor_id, p.action, p.object_type, p.object_id, p.outcome, p.request_id,
    p.key_scope, p.key_version, p.ciphertext, p.txid
"""
# Rows after the last one taken, in (transaction id, id) order, from finished
# transactions only; the index on (txid, id) serves the range.
PENDING_SQL = f"""
SELECT {PENDING_COLUMNS}
FROM audit_event p
WHERE (p.txid, p.id) > (%(last_txid)s, %(last_id)s)
  AND (p.txid < %(limit)s OR p.txid = %(own)s)
ORDER BY p.txid, p.id
LIMIT %(batch)s
"""  # noqa: S608
COPY_SQL = """
COPY audit_log_entry (seq, pending_id, event_id, occurred_at, sequenced_at,
    actor_id, action, object_type, object_id, outcome, request_id,
    key_scope, key_version, ciphertext) FROM STDIN
"""


class SequencerHalted(Exception):
    """The database disagrees with the exported checkpoints; signing stops."""


@dataclass
class Batch:
    count: int
    size: int
    oldest_occurred_us: int | None = None


@dataclass
class Sequencer:
    """Sequences pending events into the log. Not thread-safe: one per process."""

    log_id: uuid.UUID = field(default_factory=uuid.uuid4)
    frontier: Frontier = field(default_factory=Frontier)
    # Leaf hashes since the last checkpoint, and checkpoints not yet exported.
    uncheckpointed: list[bytes] = field(default_factory=list)
    unexported: list[SinkCheckpoint] = field(default_factory=list)
    last_checkpoint_size: int = 0
    last_checkpoint_at: float = field(default_factory=time.monotonic)
    last_heartbeat: float = 0.0

    # --- start ----------------------------------------------------------------

    def resync(self) -> None:
        """Rebuild the tree from the sink's newest checkpoint and the entries
        after it; find and queue checkpoints committed but not exported."""
        state = SequencerState.objects.get_or_create(id=1)[0]
        self.log_id = state.log_id
        latest = config.sink().latest(self.log_id)
        self.frontier = Frontier()
        self.last_checkpoint_size = 0
        if latest is not None:
            self._check_exported(latest, state.size)
            self.frontier = latest.frontier.copy()
            self.last_checkpoint_size = latest.size
        pending = {
            checkpoint.size: checkpoint
            for checkpoint in Checkpoint.objects.filter(size__gt=self.frontier.size)
        }
        self.uncheckpointed = []
        self.unexported = []
        for position, row in enumerate(
            iter_rows(self.frontier.size), self.frontier.size
        ):
            if row[0] != position:
                raise SequencerHalted(f"entry {position} is missing from the log")
            leaf = row_leaf(self.log_id.bytes, row)
            self.frontier.append(leaf)
            self.uncheckpointed.append(leaf)
            if self.frontier.size in pending:
                self._requeue(pending.pop(self.frontier.size))
        if self.frontier.size != state.size:
            raise SequencerHalted(
                f"the log holds {self.frontier.size} entries but the sequencer "
                f"state says {state.size}"
            )
        self.last_checkpoint_at = time.monotonic()
        logger.info("audit sequencer resynced at tree size %d", self.frontier.size)

    def _check_exported(self, latest: SinkCheckpoint, db_size: int) -> None:
        note = latest.note
        key = config.trusted_keys().get(note.key_id)
        if key is None or not verify(latest.note_text, latest.signature, key):
            raise SequencerHalted(f"the sink's checkpoint {note.size} is not signed")
        if note.log_id != self.log_id:
            raise SequencerHalted("the sink's newest checkpoint is for another log")
        if latest.frontier.root() != note.root:
            raise SequencerHalted(f"the sink's checkpoint {note.size} is inconsistent")
        if db_size < note.size:
            raise SequencerHalted(
                f"the database has {db_size} entries, fewer than the exported "
                f"checkpoint of {note.size}: the log was truncated or rolled back"
            )

    def _requeue(self, checkpoint: Checkpoint) -> None:
        if bytes(checkpoint.root) != self.frontier.root():
            raise SequencerHalted(
                f"checkpoint {checkpoint.size} in the database does not match the "
                "entries it covers"
            )
        self._queue_export(checkpoint.note, bytes(checkpoint.signature))

    def _queue_export(self, note_text: str, signature: bytes) -> None:
        self.unexported.append(
            SinkCheckpoint(
                note_text=note_text,
                signature=signature,
                leaves_from=self.last_checkpoint_size,
                leaf_hashes=b"".join(self.uncheckpointed),
                frontier=self.frontier.copy(),
            )
        )
        self.uncheckpointed = []
        self.last_checkpoint_size = self.frontier.size
        self.last_checkpoint_at = time.monotonic()

    # --- one round --------------------------------------------------------------

    def step(self, *, include_own: bool = False, force_checkpoint: bool = False) -> int:
        """Sequence one batch, checkpoint if due, export; return the count."""
        batch = self.sequence_batch(include_own=include_own)
        due = self.frontier.size - self.last_checkpoint_size >= (
            settings.AUDIT_CHECKPOINT_ENTRIES
        ) or time.monotonic() - self.last_checkpoint_at >= (
            settings.AUDIT_CHECKPOINT_SECONDS
        )
        if self.frontier.size > self.last_checkpoint_size and (due or force_checkpoint):
            self.checkpoint()
        self.export()
        return batch.count

    def sequence_batch(self, *, include_own: bool = False) -> Batch:
        with transaction.atomic():
            state = SequencerState.objects.select_for_update().get_or_create(id=1)[0]
            if state.size != self.frontier.size or state.log_id != self.log_id:
                logger.warning(
                    "audit sequencer state moved from %d to %d; resyncing",
                    self.frontier.size,
                    state.size,
                )
                self.resync()
            limit, own = self._horizon()
            # Rows of this very transaction (tests only) lie above the horizon.
            reach = max(limit, own + 1) if include_own else limit
            if reach < state.last_txid:
                # Transaction ids only grow within one cluster. A restore from
                # a logical dump (pg_dump) into a new cluster starts them
                # lower, and new events would sort before the watermark and
                # never be taken; stop loudly instead.
                raise SequencerHalted(
                    f"transaction ids went backwards (horizon {limit} is below "
                    f"the last sequenced {state.last_txid}); was the database "
                    "restored from a logical dump?"
                )
            rows = self._pending(state, limit, own if include_own else -1)
            batch = self._append(rows)
            if rows:
                state.last_pending_id = rows[-1][0]
                state.last_txid = rows[-1][-1]
            state.size = self.frontier.size
            state.frontier = self.frontier.to_bytes()
            now = time.monotonic()
            fields = ["last_txid", "last_pending_id", "size", "frontier"]
            if now - self.last_heartbeat >= HEARTBEAT_SECONDS:
                state.heartbeat_at = timezone.now()
                fields.append("heartbeat_at")
                self.last_heartbeat = now
            if batch.count or "heartbeat_at" in fields:
                state.save(update_fields=fields)
        if batch.count:
            logger.debug("audit sequencer took %d events", batch.count)
        return batch

    def _horizon(self) -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                "coalesce(pg_current_xact_id_if_assigned()::text::bigint, -1)"
            )
            limit, own = cursor.fetchone()
        return int(limit), int(own)

    def _pending(
        self, state: SequencerState, limit: int, own: int
    ) -> list[tuple[Any, ...]]:
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        params = {
            "last_txid": state.last_txid,
            "last_id": state.last_pending_id,
            "limit": limit,
            "own": own,
            "batch": settings.AUDIT_SEQUENCER_BATCH,
        }
        # Django's cursors bind parameters on the client, which rules out
        # binary results; a plain psycopg cursor binds on the server.
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(PENDING_SQL, params, binary=True)
            return cursor.fetchall()

    def _append(self, rows: list[tuple[Any, ...]]) -> Batch:
        if not rows:
            return Batch(0, self.frontier.size)
        sequenced_at = timezone.now()
        sequenced_us = to_micros(sequenced_at)
        log_id = self.log_id.bytes
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            for row in rows:
                (pending_id, event_id, occurred_us, actor_id, action, object_type,
                 object_id, outcome, request_id, key_scope, key_version,
                 ciphertext, _txid) = row  # fmt: skip
                seq = self.frontier.size
                leaf = encode_leaf_fields(
                    log_id, seq, event_id, occurred_us, sequenced_us, actor_id,
                    action, object_type, object_id, outcome, request_id,
                    key_scope, key_version, ciphertext,
                )  # fmt: skip
                hashed = leaf_hash(leaf)
                self.frontier.append(hashed)
                self.uncheckpointed.append(hashed)
                copy.write_row(
                    (seq, pending_id, uuid.UUID(bytes=event_id),
                     from_micros(occurred_us), sequenced_at, actor_id, action,
                     object_type, object_id, outcome, request_id, key_scope,
                     key_version, ciphertext)
                )  # fmt: skip
        return Batch(len(rows), self.frontier.size, min(r[2] for r in rows))

    # --- checkpoints ------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree head and commit it to the database."""
        key = config.signing_key()
        note = Note(
            log_id=self.log_id,
            size=self.frontier.size,
            root=self.frontier.root(),
            signed_at=timezone.now(),
            key_id=public_key_id(key.public_key()),
        )
        signature = sign(note, key)
        with transaction.atomic():
            row = Checkpoint.objects.create(
                size=note.size,
                root=note.root,
                signed_at=note.signed_at,
                key_id=note.key_id,
                note=note.text(),
                signature=signature,
            )
        self._queue_export(note.text(), signature)
        logger.info("audit checkpoint signed at tree size %d", note.size)
        return row

    def export(self) -> None:
        """Write committed checkpoints to the sink, oldest first. A failure is
        logged and the checkpoint retried on the next round."""
        sink = config.sink()
        while self.unexported:
            checkpoint = self.unexported[0]
            try:
                sink.write(self.log_id, checkpoint)
            except (OSError, SinkError) as exc:
                logger.error(
                    "writing audit checkpoint %d to the sink failed: %s",
                    checkpoint.size,
                    type(exc).__name__,
                )
                return
            Checkpoint.objects.filter(size=checkpoint.size).update(
                exported_at=timezone.now()
            )
            self.unexported.pop(0)


def sequence_now(*, checkpoint: bool = True, include_own: bool = True) -> int:
    """Sequence every pending event now, in this process and transaction,
    sign a checkpoint and export it; return the tree size. For tests and
    benchmarks; the running appliance has the sequencer process for this.

    ``include_own`` also takes events written by the caller's own open
    transaction, for a test whose transaction is rolled back afterwards.
    NOTE: its rows sort after those of transactions still open, so a caller
    that commits after ``include_own`` makes the sequencer pass over those
    other transactions' events; pass False outside rolled-back tests.
    """
    sequencer = Sequencer()
    sequencer.resync()
    while sequencer.step(include_own=include_own):
        pass
    if checkpoint and sequencer.frontier.size > sequencer.last_checkpoint_size:
        sequencer.checkpoint()
        sequencer.export()
    return sequencer.frontier.size


def _try_lock() -> bool:
    """Take the sequencer's session advisory lock; False when another
    sequencer holds it or the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
            return bool(cursor.fetchone()[0])
    except DatabaseError as exc:
        logger.error(
            "audit sequencer cannot reach the database: %s", type(exc).__name__
        )
        connection.close()
        return False


def _record(action: str, outcome: str = "success") -> None:
    # Imported here: services imports datakeys, which imports nothing of this.
    from appliance.audit.services import record

    record(action, object_type="audit_log", outcome=outcome, durable=True)


def run(should_stop: Callable[[], bool]) -> None:
    """Sequence until ``should_stop()``; what ``manage.py audit sequencer`` runs.

    Database errors are logged and retried after a pause. When the database
    disagrees with the sink the sequencer stops signing, records an alert
    and checks again every HALT_RETRY_SECONDS; the health check turns
    unavailable meanwhile, because events stop being sequenced.
    """
    locked = False
    started = False
    # One alert per halt, not one per retry.
    halt_recorded = False
    sequencer: Sequencer | None = None
    while not should_stop():
        if not locked:
            locked = _try_lock()
            if not locked:
                logger.info("audit sequencer waiting for the lock")
                _sleep_until(should_stop, 5.0)
                continue
        try:
            if not started:
                _record("audit.sequencer_started")
                started = True
            if sequencer is None:
                sequencer = Sequencer()
                sequencer.resync()
            halt_recorded = False
            if sequencer.step() < settings.AUDIT_SEQUENCER_BATCH:
                time.sleep(settings.AUDIT_SEQUENCER_INTERVAL)
        except SequencerHalted as exc:
            logger.critical("audit sequencer halted: %s", exc)
            if not halt_recorded:
                _record("audit.sequencer_halted", outcome="failure")
                halt_recorded = True
            sequencer = None
            _sleep_until(should_stop, HALT_RETRY_SECONDS)
        except DatabaseError as exc:
            logger.error("audit sequencer database error: %s", type(exc).__name__)
            connection.close()
            locked = False
            sequencer = None
            _sleep_until(should_stop, 2.0)
    _stop(sequencer if locked else None)


def _stop(sequencer: Sequencer | None) -> None:
    try:
        _record("audit.sequencer_stopped")
        if sequencer is not None:
            # Takes the stop event too, unless an older transaction is open.
            sequencer.step(force_checkpoint=True)
    except (DatabaseError, SequencerHalted) as exc:
        logger.error("audit sequencer failed to stop cleanly: %s", type(exc).__name__)
    logger.info("audit sequencer stopped")


def _sleep_until(should_stop: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not should_stop() and time.monotonic() < deadline:
        time.sleep(min(0.5, seconds))
