"""Evidence bundles: the entries of a time range with everything needed to
check them away from the appliance, as one JSON document.

The document is serialized canonically (keys sorted, no spaces, ASCII only,
one trailing newline), and verifiers reject any other serialization of the
same content, so changing any byte of a bundle makes it fail. It holds:

- ``entries``: the entries of a contiguous range of sequence numbers, each
  with its fields, its ciphertext and its RFC 6962 inclusion proof into the
  newest checkpoint's tree;
- ``checkpoints``: signed notes, oldest first; the last one is the tree the
  inclusion proofs lead to;
- ``consistency``: an RFC 6962 consistency proof between each checkpoint and
  the next;
- ``public_keys``: the checkpoint signing keys, by key id (a verifier should
  pin its own copy rather than trust these).

Only exported checkpoints are used, so entries newer than the last one are
left out of a bundle until the sequencer has exported a checkpoint for them.
tools/verify_audit_bundle.py checks a bundle with the standard library and
``cryptography`` alone; ``verify_bundle`` here is the appliance's own check.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from appliance.audit import config
from appliance.audit.entries import Row, iter_rows, row_leaf
from appliance.audit.merkle import (
    HASH_SIZE,
    Tree,
)
from appliance.audit.models import LogEntry, SequencerState
from appliance.audit.services import Actor, record
from appliance.audit.signing import raw_public_key
from appliance.audit.sink import SinkCheckpoint
from appliance.audit.verification import Report, check_sink

FORMAT = "appliance-audit-bundle/1"
ENTRY_FIELDS = (
    "seq",
    "event_id",
    "occurred_us",
    "sequenced_us",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "key_scope",
    "key_version",
    "ciphertext",
)


class ExportError(Exception):
    """The bundle cannot be built; the message says why and what to do."""


def canonical_json(document: dict[str, Any]) -> bytes:
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return (text + "\n").encode("ascii")


@dataclass
class Exported:
    data: bytes
    first_seq: int
    end_seq: int
    tree_size: int

    @property
    def count(self) -> int:
        return self.end_seq - self.first_seq


def _trusted_checkpoints(log_id: uuid.UUID) -> tuple[list[SinkCheckpoint], Tree]:
    checkpoints = config.sink().read_all(log_id)
    report = Report()
    trusted = check_sink(log_id, config.trusted_keys(), checkpoints, None, report)
    if not report.ok:
        raise ExportError(
            f"the checkpoint sink fails verification ({report.problem}); run "
            "'manage.py audit verify' before exporting"
        )
    leaves = bytes(trusted.leaves)
    tree = Tree([leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)])
    return checkpoints, tree


def _range(start: datetime, end: datetime, tree_size: int) -> tuple[int, int]:
    entries = LogEntry.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, seq__lt=tree_size
    )
    first = entries.order_by("seq").values_list("seq", flat=True).first()
    last = entries.order_by("-seq").values_list("seq", flat=True).first()
    if first is None or last is None:
        return 0, 0
    return first, last + 1


def _entry(row: Row, proof: list[bytes]) -> dict[str, Any]:
    values: dict[str, Any] = dict(zip(ENTRY_FIELDS, row, strict=True))
    values["event_id"] = row[1].hex()
    values["ciphertext"] = base64.b64encode(row[-1]).decode()
    values["inclusion"] = [element.hex() for element in proof]
    return values


def _chosen(
    checkpoints: list[SinkCheckpoint], end_seq: int, links: Sequence[int]
) -> list[SinkCheckpoint]:
    latest = checkpoints[-1]
    covering = next(c for c in checkpoints if c.size >= end_seq)
    sizes = {latest.size, covering.size}
    for size in links:
        if size not in {c.size for c in checkpoints}:
            raise ExportError(f"no exported checkpoint has size {size}")
        sizes.add(size)
    return [c for c in checkpoints if c.size in sizes]


def _entries(log_id: uuid.UUID, tree: Tree, first_seq: int, end_seq: int) -> list[Any]:
    """The range's entries with their inclusion proofs, each checked against
    the checkpointed leaf hash first."""
    entries = []
    for row in iter_rows(first_seq, end_seq):
        seq = row[0]
        if row_leaf(log_id.bytes, row) != tree.levels[0][seq]:
            raise ExportError(
                f"entry {seq} differs from its checkpointed hash; run "
                "'manage.py audit verify'"
            )
        entries.append(_entry(row, tree.inclusion_proof(seq, tree.size)))
    if len(entries) != end_seq - first_seq:
        raise ExportError("entries are missing from the range; run 'audit verify'")
    return entries


def _document(
    log_id: uuid.UUID, entries: list[Any], chosen: list[SinkCheckpoint], tree: Tree
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "log_id": str(log_id),
        "entries": entries,
        "checkpoints": [
            {"note": c.note_text, "signature": base64.b64encode(c.signature).decode()}
            for c in chosen
        ],
        "consistency": [
            {
                "from": old.size,
                "to": new.size,
                "proof": [h.hex() for h in tree.consistency_proof(old.size, new.size)],
            }
            for old, new in itertools.pairwise(chosen)
        ],
        "public_keys": {
            key_id: base64.b64encode(raw_public_key(key)).decode()
            for key_id, key in config.trusted_keys().items()
        },
    }


def export_bundle(
    start: datetime, end: datetime, *, actor: Actor | None, links: Sequence[int] = ()
) -> Exported:
    """Build the bundle for entries that occurred in [start, end)."""
    log_id = SequencerState.objects.get_or_create(id=1)[0].log_id
    checkpoints, tree = _trusted_checkpoints(log_id)
    if not checkpoints:
        raise ExportError("no checkpoint has been exported yet; try again in a minute")

    first_seq, end_seq = _range(start, end, tree.size)
    limit = settings.AUDIT_EXPORT_MAX_ENTRIES
    if end_seq - first_seq > limit:
        raise ExportError(
            f"the range holds {end_seq - first_seq} entries, more than the "
            f"{limit} a bundle may hold; choose a shorter time range"
        )
    entries = _entries(log_id, tree, first_seq, end_seq)
    document = _document(log_id, entries, _chosen(checkpoints, end_seq, links), tree)

    record(
        "audit.exported",
        actor=actor,
        object_type="audit_log",
        details={
            "first_seq": first_seq,
            "end_seq": end_seq,
            "entries": len(entries),
            "tree_size": tree.size,
        },
    )
    return Exported(canonical_json(document), first_seq, end_seq, tree.size)
