"""Verifying the log against the checkpoints in the sink.

Trust comes from the sink alone: each checkpoint file must carry a valid
signature by a configured public key, continue exactly where the previous one
ended, and its leaf hashes must rebuild the signed root. Every entry the
database returns is then encoded and hashed here and compared, in order, with
the checkpointed leaf hash at its position, so the first entry that was
changed, removed, inserted, moved or replayed is named by its index. A log
shorter than the newest exported checkpoint was truncated or rolled back.

Checkpoints in the database are copies. Each must carry a valid signature and
match the root of the entries it covers. Those newer than the sink vouch for
the entries after the newest exported checkpoint. Entries after every
checkpoint are reported as not yet covered, not as a failure.

``check_log`` is the pure core, shared by ``manage.py audit verify``, the
scheduled task and the tamper suite, which feeds it altered rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from appliance.audit import config
from appliance.audit.canonical import encode_leaf_fields
from appliance.audit.entries import Row, iter_rows
from appliance.audit.merkle import HASH_SIZE, Frontier, leaf_hash
from appliance.audit.models import (
    Checkpoint,
    Outcome,
    SequencerState,
    VerificationRun,
)
from appliance.audit.services import Actor, record
from appliance.audit.signing import parse_note, verify
from appliance.audit.sink import SinkCheckpoint

logger = logging.getLogger(__name__)

READ_DATABASE = "default"


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint copy as stored in the database (untrusted)."""

    size: int
    note_text: str
    signature: bytes


@dataclass
class Report:
    ok: bool = True
    from_size: int = 0
    checked: int = 0
    log_size: int = 0
    exported_size: int = 0
    signed_size: int = 0
    first_bad_index: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str:
        return self.problems[0] if self.problems else ""

    @property
    def uncovered(self) -> int:
        return max(self.log_size - self.signed_size, 0)

    def fail(self, index: int | None, message: str) -> None:
        self.ok = False
        self.problems.append(message)
        if index is not None and (
            self.first_bad_index is None or index < self.first_bad_index
        ):
            self.first_bad_index = index


@dataclass
class _Trusted:
    """The leaf hashes and roots the sink vouches for, from ``base`` on."""

    base: Frontier
    leaves: bytearray = field(default_factory=bytearray)
    roots: dict[int, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.base.size + len(self.leaves) // HASH_SIZE


def _signed_by(
    note_text: str, signature: bytes, keys: dict[str, Ed25519PublicKey]
) -> bool:
    try:
        key = keys.get(parse_note(note_text).key_id)
    except ValueError:
        return False
    return key is not None and verify(note_text, signature, key)


def check_sink(
    log_id: uuid.UUID,
    keys: dict[str, Ed25519PublicKey],
    checkpoints: Sequence[SinkCheckpoint],
    base: SinkCheckpoint | None,
    report: Report,
) -> _Trusted:
    """Validate the chain of sink checkpoints after ``base``; stop at the
    first one that fails, reporting the first entry it would have covered."""
    trusted = _Trusted(Frontier())
    previous_time = None
    if base is not None:
        note = base.note
        if not _signed_by(base.note_text, base.signature, keys):
            report.fail(0, f"checkpoint {note.size} in the sink is not validly signed")
            return trusted
        if note.log_id != log_id or base.frontier.root() != note.root:
            report.fail(0, f"checkpoint {note.size} in the sink does not match its log")
            return trusted
        trusted.base = base.frontier.copy()
        trusted.roots[note.size] = note.root
        previous_time = note.signed_at
    frontier = trusted.base.copy()
    for checkpoint in checkpoints:
        if checkpoint.size <= trusted.base.size:
            continue
        start = frontier.size
        note = checkpoint.note
        where = f"checkpoint {note.size} in the sink"
        if not _signed_by(checkpoint.note_text, checkpoint.signature, keys):
            report.fail(start, f"{where} has an invalid signature or unknown key")
            break
        if note.log_id != log_id:
            report.fail(start, f"{where} belongs to another log")
            break
        if checkpoint.leaves_from != start:
            report.fail(start, f"{where} does not continue from size {start}")
            break
        if previous_time is not None and note.signed_at < previous_time:
            report.fail(start, f"{where} is dated before the one it follows")
            break
        frontier.extend(checkpoint.leaves())
        if (
            frontier.root() != note.root
            or frontier.hashes != checkpoint.frontier.hashes
        ):
            report.fail(start, f"{where}: its leaf hashes do not give its signed root")
            break
        trusted.leaves += checkpoint.leaf_hashes
        trusted.roots[note.size] = note.root
        previous_time = note.signed_at
    return trusted


def _position_problem(position: int, seq: int) -> str:
    if seq > position:
        return f"entry {position} is missing (the next entry is {seq})"
    return f"entry {position} is out of place: it carries sequence number {seq}"


def check_rows(
    log_id: uuid.UUID,
    rows: Iterable[Row],
    trusted: _Trusted,
    wanted_roots: set[int],
    report: Report,
) -> dict[int, bytes]:
    """Hash every row and compare it with the trusted leaf at its position;
    return the roots at the sizes in ``wanted_roots``."""
    frontier = trusted.base.copy()
    base = frontier.size
    leaves = trusted.leaves
    known = len(leaves) // HASH_SIZE
    roots: dict[int, bytes] = {}
    raw_log_id = log_id.bytes
    position = base

    for row in rows:
        if row[0] != position:
            report.fail(position, _position_problem(position, row[0]))
            break
        leaf = leaf_hash(encode_leaf_fields(raw_log_id, *row))

        # Past the newest exported checkpoint there is no leaf to compare.
        offset = (position - base) * HASH_SIZE
        if position - base < known and leaves[offset : offset + HASH_SIZE] != leaf:
            report.fail(position, f"entry {position} differs from the checkpointed one")
            break

        frontier.append(leaf)
        position += 1
        if position in wanted_roots:
            roots[position] = frontier.root()

    report.log_size = position
    report.checked = position - base
    if report.ok and position < trusted.size:
        report.fail(
            position,
            f"the log ends at {position} entries but checkpoint {trusted.size} "
            "was exported: it was truncated or rolled back",
        )
    return roots


def check_stored(
    keys: dict[str, Ed25519PublicKey],
    stored: Sequence[StoredCheckpoint],
    trusted: _Trusted,
    roots: dict[int, bytes],
    report: Report,
) -> None:
    """Check the database's copies of checkpoints against the recomputed roots
    and the sink: forged, altered, missing (rolled back) or unexported.

    A bad copy names the first entry it covers past the previous checkpoint,
    unless the entries themselves already named an earlier bad one.
    """
    report.signed_size = trusted.size

    def fail(index: int, message: str) -> None:
        report.fail(index if report.first_bad_index is None else None, message)

    previous = trusted.base.size
    stored_sizes = {checkpoint.size for checkpoint in stored}
    for size in sorted(trusted.roots):
        if size > trusted.base.size and size not in stored_sizes:
            fail(previous, f"checkpoint {size} is in the sink but not in the database")
            break
        previous = size
    previous = trusted.base.size
    for checkpoint in stored:
        if checkpoint.size <= trusted.base.size:
            continue
        where = f"checkpoint {checkpoint.size} in the database"
        if not _signed_by(checkpoint.note_text, checkpoint.signature, keys):
            fail(previous, f"{where} has an invalid signature or unknown key")
            return
        root = parse_note(checkpoint.note_text).root
        if checkpoint.size in roots and roots[checkpoint.size] != root:
            fail(previous, f"{where} does not match the entries it covers")
            return
        if checkpoint.size > report.log_size:
            fail(
                report.log_size,
                f"{where} covers {checkpoint.size} entries; the log has "
                f"{report.log_size}: it was truncated",
            )
            return
        if checkpoint.size in roots:
            report.signed_size = max(report.signed_size, checkpoint.size)
        previous = checkpoint.size


def check_log(
    log_id: uuid.UUID,
    keys: dict[str, Ed25519PublicKey],
    sink_checkpoints: Sequence[SinkCheckpoint],
    rows: Iterable[Row],
    *,
    base: SinkCheckpoint | None = None,
    stored: Sequence[StoredCheckpoint] = (),
    state_size: int | None = None,
) -> Report:
    """Verify ``rows`` (from ``base``'s size on, or from 0) against the sink's
    checkpoints and the database's copies of them."""
    report = Report(from_size=base.size if base is not None else 0)
    trusted = check_sink(log_id, keys, sink_checkpoints, base, report)
    report.exported_size = trusted.size
    wanted = {checkpoint.size for checkpoint in stored} | set(trusted.roots)
    roots = check_rows(log_id, rows, trusted, wanted, report)
    for size, root in trusted.roots.items():
        if size in roots and roots[size] != root and report.ok:
            report.fail(trusted.base.size, f"the entries do not give checkpoint {size}")
    check_stored(keys, stored, trusted, roots, report)
    if state_size is not None and report.ok and state_size != report.log_size:
        index = min(state_size, report.log_size)
        report.fail(
            index,
            f"the log has {report.log_size} entries but the sequencer's tree "
            f"size is {state_size}",
        )
    return report


# --- against the database ------------------------------------------------------


def verify_database(*, since: int | None = None, full: bool = True) -> Report:
    """Verify the log in PostgreSQL: from the start, or from the newest
    exported checkpoint at or below ``since`` (``full=False``).

    The sink is read before the database snapshot is taken, so every exported
    checkpoint is also in the snapshot. The database is read in one
    REPEATABLE READ snapshot, so that the state, the checkpoints and the
    entries agree with each other while the sequencer keeps writing.
    """
    state = SequencerState.objects.using(READ_DATABASE).get_or_create(id=1)[0]
    sink = config.sink()
    log_id = state.log_id
    known_logs = sink.log_ids()
    sizes = sink.sizes(log_id)
    base = None
    if not full:
        below = [size for size in sizes if since is None or size <= since]
        base = sink.read(log_id, below[-1]) if below else None
    start = base.size if base is not None else 0
    # Only the checkpoints after the starting one are read: a full run reads
    # them all, an incremental one only what it needs.
    checkpoints = [sink.read(log_id, size) for size in sizes if size > start]
    database = connections[READ_DATABASE]
    # Inside a caller's transaction (tests) its snapshot rules apply instead.
    repeatable = not database.in_atomic_block
    with transaction.atomic(using=READ_DATABASE):
        if repeatable:
            with database.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        state = SequencerState.objects.using(READ_DATABASE).get(id=1)
        stored = [
            StoredCheckpoint(c.size, c.note, bytes(c.signature))
            for c in Checkpoint.objects.using(READ_DATABASE)
            .filter(size__gt=start)
            .order_by("size")
        ]
        report = check_log(
            state.log_id,
            config.trusted_keys(),
            checkpoints,
            iter_rows(start, using=READ_DATABASE),
            base=base,
            stored=stored,
            state_size=state.size,
        )
    if state.log_id != log_id or (known_logs and log_id not in known_logs):
        report.fail(0, "the database's log id is not the one the sink holds")
    return report


def run_verification(
    *, full: bool, since: int | None = None, actor: Actor | None = None
) -> tuple[VerificationRun, Report]:
    """Verify, keep the outcome for the health check and the console, and
    record it in the log; a failure is recorded as an alert."""
    run = VerificationRun.objects.create(
        mode=VerificationRun.Mode.FULL if full else VerificationRun.Mode.INCREMENTAL
    )
    report = verify_database(since=since, full=full)

    run.finished_at = timezone.now()
    run.ok = report.ok
    run.from_size = report.from_size
    run.checked_size = report.log_size
    run.first_bad_index = report.first_bad_index
    run.problem = report.problem[:300]
    run.save()

    details = {
        "mode": run.mode,
        "from_size": report.from_size,
        "log_size": report.log_size,
        "exported_size": report.exported_size,
        "uncovered": report.uncovered,
    }
    if report.ok:
        record("audit.verified", actor=actor, object_type="audit_log", details=details)
    else:
        logger.critical(
            "audit log verification failed at entry %s: %s",
            report.first_bad_index,
            report.problem,
        )
        record(
            "audit.verification_failed",
            actor=actor,
            object_type="audit_log",
            outcome=Outcome.FAILURE,
            details={**details, "first_bad_index": report.first_bad_index},
            durable=True,
        )
    return run, report


def run_scheduled() -> Report:
    """Run the periodic verification. It covers the whole log when the last
    full run is older than AUDIT_FULL_VERIFY_SECONDS, and otherwise starts at
    the newest checkpoint the last successful run reached."""
    now = timezone.now()
    last_full = (
        VerificationRun.objects.filter(mode=VerificationRun.Mode.FULL, ok=True)
        .order_by("-started_at")
        .first()
    )
    full_due = last_full is None or (now - last_full.started_at).total_seconds() >= (
        settings.AUDIT_FULL_VERIFY_SECONDS
    )
    if full_due:
        return run_verification(full=True)[1]
    last_ok = VerificationRun.objects.filter(ok=True).order_by("-started_at").first()
    since = last_ok.checked_size if last_ok is not None else 0
    return run_verification(full=False, since=since)[1]
