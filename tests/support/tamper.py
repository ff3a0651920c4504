"""The tamper suite: randomized attacks on a real log, each of which the
verifier must detect, naming the first bad entry.

A log is written through ``record`` and the real sequencer into PostgreSQL,
then read back once (rows, sink checkpoints, the database's checkpoint
copies). Each trial alters a copy the way an attacker with full control of
the database could, and runs ``verification.check_log`` on it, the same code
``manage.py audit verify`` runs on rows streamed from PostgreSQL. The
attacker never has the signing key or write access to the sink.

Used by tests/audit/test_tamper.py (a fast subset) and by
benchmarks/audit_tamper.py (the full run).
"""

from __future__ import annotations

import base64
import dataclasses
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from appliance.audit import config
from appliance.audit.entries import Row, iter_rows, row_leaf
from appliance.audit.merkle import Frontier, Tree
from appliance.audit.models import Checkpoint, SequencerState
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record
from appliance.audit.signing import Note, parse_note, public_key_id, sign
from appliance.audit.sink import SinkCheckpoint
from appliance.audit.verification import Report, StoredCheckpoint, check_log

ACTIONS = ("job.submitted", "job.redacted", "model.called", "job.succeeded")


@dataclass
class FakeActor:
    pk: int

    def get_username(self) -> str:
        return f"user-{self.pk}"


@dataclass
class Log:
    log_id: uuid.UUID
    rows: list[Row]
    sink: list[SinkCheckpoint]
    stored: list[StoredCheckpoint]
    keys: dict[str, Ed25519PublicKey]

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass
class Case:
    """One tampered view of a log and the index the verifier must name."""

    rows: list[Row]
    sink: list[SinkCheckpoint]
    stored: list[StoredCheckpoint]
    state_size: int
    expected: int


def write_log(size: int, rng: random.Random, *, max_chunk: int = 400) -> Log:
    """Record ``size`` events in transactions of random size, sequencing and
    checkpointing after each, and read the result back."""
    written = 0
    with override_settings(AUDIT_CHECKPOINT_ENTRIES=10**9):
        while written < size:
            chunk = min(rng.randint(1, max_chunk), size - written)
            with transaction.atomic():
                for i in range(written, written + chunk):
                    record(
                        ACTIONS[i % len(ACTIONS)],
                        actor=FakeActor(rng.randint(1, 50)) if i % 3 else None,
                        object_type="job",
                        object_id=str(uuid.UUID(int=rng.getrandbits(128))),
                        details={"n": i, "chars": rng.randint(0, 10**6)},
                    )
            written += chunk
            sequence_now(checkpoint=True)
    return read_log()


def read_log() -> Log:
    state = SequencerState.objects.get(id=1)
    stored = [
        StoredCheckpoint(c.size, c.note, bytes(c.signature))
        for c in Checkpoint.objects.order_by("size")
    ]
    return Log(
        log_id=state.log_id,
        rows=list(iter_rows(0)),
        sink=config.sink().read_all(state.log_id),
        stored=stored,
        keys=config.trusted_keys(),
    )


def verify(log: Log, case: Case) -> Report:
    return check_log(
        log.log_id,
        log.keys,
        case.sink,
        case.rows,
        stored=case.stored,
        state_size=case.state_size,
    )


def clean(log: Log) -> Case:
    return Case(list(log.rows), list(log.sink), list(log.stored), log.size, -1)


# --- altering entries -------------------------------------------------------

# Row fields an attacker may alter, by index into the row tuple.
_FIELDS = {
    "seq": 0,
    "event_id": 1,
    "occurred_us": 2,
    "sequenced_us": 3,
    "actor_id": 4,
    "action": 5,
    "object_type": 6,
    "object_id": 7,
    "outcome": 8,
    "request_id": 9,
    "key_scope": 10,
    "key_version": 11,
    "ciphertext": 12,
}


def _flip_bit(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bytes):
        data = bytearray(value)
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if isinstance(value, str):
        chars = list(value)
        at = rng.randrange(len(chars))
        chars[at] = chr(ord(chars[at]) ^ (1 << rng.randrange(6)))
        return "".join(chars)
    return value ^ (1 << rng.randrange(20))


def _edit_byte(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bytes):
        data = bytearray(value)
        at = rng.randrange(len(data))
        data[at] = (data[at] + rng.randrange(1, 256)) % 256
        return bytes(data)
    chars = list(value)
    at = rng.randrange(len(chars))
    chars[at] = rng.choice([c for c in "abcdefghijklmnop0123456789" if c != chars[at]])
    return "".join(chars)


def _replace(row: Row, index: int, value: Any) -> Row:
    values = list(row)
    values[index] = value
    return tuple(values)  # type: ignore[return-value]


def _renumbered(rows: list[Row], start: int) -> list[Row]:
    return [_replace(row, 0, start + k) for k, row in enumerate(rows)]


def _middle(log: Log, rng: random.Random) -> int:
    return rng.randrange(1, log.size - 1)


def bit_flip(log: Log, rng: random.Random) -> Case:
    case = clean(log)
    at = rng.randrange(log.size)
    row = case.rows[at]
    usable = [i for i in _FIELDS.values() if row[i] not in (None, "", b"")]
    field_index = rng.choice(usable)
    case.rows[at] = _replace(row, field_index, _flip_bit(row[field_index], rng))
    case.expected = at
    return case


def byte_edit(log: Log, rng: random.Random) -> Case:
    case = clean(log)
    at = rng.randrange(log.size)
    row = case.rows[at]
    texts = [i for i in (5, 6, 7, 8, 9, 10, 12) if row[i]]
    field_index = rng.choice(texts)
    case.rows[at] = _replace(row, field_index, _edit_byte(row[field_index], rng))
    case.expected = at
    return case


def _delete(log: Log, at: int, renumber: bool) -> Case:
    case = clean(log)
    rest = case.rows[at + 1 :]
    case.rows = case.rows[:at] + (_renumbered(rest, at) if renumber else rest)
    case.expected = at
    return case


def delete_head(log: Log, rng: random.Random) -> Case:
    return _delete(log, 0, rng.random() < 0.5)


def delete_middle(log: Log, rng: random.Random) -> Case:
    return _delete(log, _middle(log, rng), rng.random() < 0.5)


def delete_tail(log: Log, rng: random.Random) -> Case:
    case = _delete(log, log.size - 1, False)
    case.state_size = log.size - 1
    return case


def insertion(log: Log, rng: random.Random) -> Case:
    case = clean(log)
    at = rng.randrange(log.size)
    forged = _replace(case.rows[at], 7, str(uuid.uuid4()))
    rest = case.rows[at:]
    case.rows = [*case.rows[:at], forged, *_renumbered(rest, at + 1)]
    case.state_size = log.size + 1
    case.expected = at
    return case


def reorder(log: Log, rng: random.Random) -> Case:
    case = clean(log)
    first, second = sorted(rng.sample(range(log.size), 2))
    rows = case.rows
    # Swap the contents and keep each position's sequence number.
    rows[first], rows[second] = (
        _replace(rows[second], 0, first),
        _replace(rows[first], 0, second),
    )
    case.expected = first
    return case


def replay(log: Log, rng: random.Random) -> Case:
    case = clean(log)
    source, target = rng.sample(range(log.size), 2)
    case.rows[target] = _replace(case.rows[source], 0, target)
    case.expected = target
    return case


def truncate_tail(log: Log, rng: random.Random) -> Case:
    """Cut entries off the end, with the database's checkpoints and state
    made to agree: only the exported checkpoints show it."""
    case = clean(log)
    keep = rng.randrange(1, log.size)
    case.rows = case.rows[:keep]
    case.stored = [c for c in case.stored if c.size <= keep]
    case.state_size = keep
    case.expected = keep
    return case


def checkpoint_rollback(log: Log, rng: random.Random) -> Case:
    """Restore the database to an earlier checkpoint (a backup): entries,
    checkpoint copies and state all agree with that older tree."""
    case = clean(log)
    earlier = rng.choice([c.size for c in log.stored[:-1]])
    case.rows = case.rows[:earlier]
    case.stored = [c for c in case.stored if c.size <= earlier]
    case.state_size = earlier
    case.expected = earlier
    return case


def _attacker_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _resigned(
    log_id: uuid.UUID, rows: list[Row], sizes: list[int]
) -> list[StoredCheckpoint]:
    """Checkpoint copies for ``rows`` signed with the attacker's own key."""
    key = _attacker_key()
    tree = Tree([row_leaf(log_id.bytes, row) for row in rows])
    out = []
    for size in sizes:
        note = Note(
            log_id,
            size,
            tree.root(size),
            timezone.now(),
            public_key_id(key.public_key()),
        )
        out.append(StoredCheckpoint(size, note.text(), sign(note, key)))
    return out


def full_rewrite(log: Log, rng: random.Random) -> Case:
    """Change one entry and rebuild everything the database holds: the tree,
    the state and every checkpoint copy, signed with a key of the attacker's."""
    case = clean(log)
    at = rng.randrange(log.size)
    case.rows[at] = _replace(
        case.rows[at], 8, "denied" if case.rows[at][8] != "denied" else "success"
    )
    case.stored = _resigned(log.log_id, case.rows, [c.size for c in log.stored])
    case.expected = at
    return case


def forged_signature(log: Log, rng: random.Random) -> Case:
    """Alter a checkpoint signature: in a database copy, in a sink file, or
    on a new checkpoint that covers forged entries appended at the end."""
    case = clean(log)
    variant = rng.randrange(3)
    if variant == 0:
        k = rng.randrange(len(case.stored))
        target = case.stored[k]
        signature = bytearray(target.signature)
        signature[rng.randrange(len(signature))] ^= 1 << rng.randrange(8)
        case.stored[k] = dataclasses.replace(target, signature=bytes(signature))
        case.expected = case.stored[k - 1].size if k else 0
    elif variant == 1:
        k = rng.randrange(len(case.sink))
        exported = case.sink[k]
        signature = bytearray(exported.signature)
        signature[rng.randrange(len(signature))] ^= 1 << rng.randrange(8)
        case.sink[k] = dataclasses.replace(exported, signature=bytes(signature))
        case.expected = exported.leaves_from
    else:
        extra = [_replace(row, 7, "forged") for row in case.rows[-5:]]
        case.rows += _renumbered(extra, log.size)
        case.stored += _resigned(log.log_id, case.rows, [len(case.rows)])
        case.state_size = len(case.rows)
        case.expected = log.size
    return case


ATTACKS: dict[str, Callable[[Log, random.Random], Case]] = {
    "bit_flip": bit_flip,
    "byte_edit": byte_edit,
    "delete_head": delete_head,
    "delete_middle": delete_middle,
    "delete_tail": delete_tail,
    "insertion": insertion,
    "reorder": reorder,
    "replay": replay,
    "truncate_tail": truncate_tail,
    "full_rewrite": full_rewrite,
    "checkpoint_rollback": checkpoint_rollback,
    "forged_signature": forged_signature,
}


@dataclass
class Tally:
    trials: int = 0
    detected: int = 0
    right_index: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, report: Report, expected: int, label: str) -> None:
        self.trials += 1
        if not report.ok:
            self.detected += 1
        if report.first_bad_index == expected:
            self.right_index += 1
        elif len(self.misses) < 5:
            self.misses.append(
                f"{label}: expected {expected}, got {report.first_bad_index} "
                f"({report.problem or 'no problem reported'})"
            )

    @property
    def perfect(self) -> bool:
        return self.detected == self.right_index == self.trials


def run_attacks(
    log: Log, trials: int, rng: random.Random, names: list[str] | None = None
) -> dict[str, Tally]:
    tallies = {}
    for name in names or list(ATTACKS):
        attack = ATTACKS[name]
        tally = Tally()
        for trial in range(trials):
            case = attack(log, rng)
            tally.add(verify(log, case), case.expected, f"{name}#{trial}")
        tallies[name] = tally
    return tallies


def false_alarms(log: Log, rng: random.Random, trials: int) -> int:
    """Verify the untouched log in full and from random exported
    checkpoints; return how many runs reported a problem."""
    alarms = 0 if verify(log, clean(log)).ok else 1
    for _ in range(trials):
        base = rng.choice(log.sink)
        report = check_log(
            log.log_id,
            log.keys,
            log.sink,
            log.rows[base.size :],
            base=base,
            stored=log.stored,
            state_size=log.size,
        )
        alarms += 0 if report.ok else 1
    return alarms


# --- a malicious prover -----------------------------------------------------


def _proof_variants(proof: list[bytes], rng: random.Random) -> list[list[bytes]]:
    """Every single-element change, every drop, and paddings at both ends
    and in the middle."""
    variants = []
    for k in range(len(proof)):
        changed = bytearray(proof[k])
        changed[rng.randrange(32)] ^= 1 << rng.randrange(8)
        variants.append([*proof[:k], bytes(changed), *proof[k + 1 :]])
        variants.append(proof[:k] + proof[k + 1 :])
    noise = rng.randbytes(32)
    variants.append([*proof, noise])
    variants.append([noise, *proof])
    middle = len(proof) // 2
    variants.append([*proof[:middle], noise, *proof[middle:]])
    if proof:
        variants.append([*proof, proof[-1]])
    return variants


@dataclass
class ProverTally:
    proofs: int = 0
    altered: int = 0
    rejected: int = 0
    honest_accepted: int = 0


def malicious_prover(
    log: Log,
    rng: random.Random,
    trials: int,
    inclusion_checks: list[Callable[[bytes, int, int, list[bytes], bytes], bool]],
    consistency_checks: list[Callable[[int, int, bytes, bytes, list[bytes]], bool]],
) -> ProverTally:
    """Feed every check altered inclusion and consistency proofs for random
    leaves and tree sizes of the log; count the rejections."""
    leaves = [row_leaf(log.log_id.bytes, row) for row in log.rows]
    tree = Tree(leaves)
    tally = ProverTally()
    for _ in range(trials):
        size = rng.randint(2, log.size)
        index = rng.randrange(size)
        root = tree.root(size)
        proof = tree.inclusion_proof(index, size)
        for included in inclusion_checks:
            tally.proofs += 1
            tally.honest_accepted += included(leaves[index], index, size, proof, root)
            for variant in _proof_variants(proof, rng):
                tally.altered += 1
                tally.rejected += not included(
                    leaves[index], index, size, variant, root
                )
        old = rng.randint(1, size - 1)
        old_root = tree.root(old)
        proof = tree.consistency_proof(old, size)
        for consistent in consistency_checks:
            tally.proofs += 1
            tally.honest_accepted += consistent(old, size, old_root, root, proof)
            for variant in _proof_variants(proof, rng):
                tally.altered += 1
                tally.rejected += not consistent(old, size, old_root, root, variant)
    return tally


# --- evidence bundles -------------------------------------------------------


def changed_bytes(data: bytes, rng: random.Random, trials: int) -> list[bytes]:
    """Copies of ``data`` with one byte at a random position changed."""
    out = []
    for _ in range(trials):
        at = rng.randrange(len(data))
        copy = bytearray(data)
        copy[at] = (copy[at] + rng.randrange(1, 256)) % 256
        out.append(bytes(copy))
    return out


def frontier_of(log: Log, size: int) -> Frontier:
    frontier = Frontier()
    frontier.extend(row_leaf(log.log_id.bytes, row) for row in log.rows[:size])
    return frontier


def note_of(checkpoint: SinkCheckpoint) -> Note:
    return parse_note(checkpoint.note_text)


def signature_b64(checkpoint: SinkCheckpoint) -> str:
    return base64.b64encode(checkpoint.signature).decode()
