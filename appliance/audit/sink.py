"""The checkpoint sink: a directory the database cannot write, on another
volume in production (APPLIANCE_AUDIT_SINK_DIR).

The sequencer writes one file per checkpoint, ``<log id>/<size, 15 digits>
.json``, created exclusively and never rewritten. Besides the signed note, each
file holds the leaf hashes the checkpoint adds since the previous one and the
tree's frontier at its size. With the leaf hashes a verifier names the first
entry that differs from what was checkpointed; with the frontier it can check
the entries after a checkpoint without reading the ones before it.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.audit.merkle import HASH_SIZE, Frontier
from appliance.audit.signing import Note, parse_note

FORMAT = 1


class SinkError(Exception):
    """A checkpoint file is missing, unreadable, malformed or conflicting."""


@dataclass(frozen=True)
class SinkCheckpoint:
    note_text: str
    signature: bytes
    leaves_from: int
    leaf_hashes: bytes
    frontier: Frontier

    @property
    def note(self) -> Note:
        return parse_note(self.note_text)

    @property
    def size(self) -> int:
        return self.frontier.size

    def leaves(self) -> list[bytes]:
        data = self.leaf_hashes
        return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "note": self.note_text,
            "signature": base64.b64encode(self.signature).decode(),
            "leaves_from": self.leaves_from,
            "leaf_hashes": base64.b64encode(self.leaf_hashes).decode(),
            "frontier": [item.hex() for item in self.frontier.hashes],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"


def parse_checkpoint(text: str) -> SinkCheckpoint:
    try:
        document: dict[str, Any] = json.loads(text)
        note = parse_note(document["note"])
        frontier = Frontier(note.size, [bytes.fromhex(h) for h in document["frontier"]])
        checkpoint = SinkCheckpoint(
            note_text=document["note"],
            signature=base64.b64decode(document["signature"], validate=True),
            leaves_from=int(document["leaves_from"]),
            leaf_hashes=base64.b64decode(document["leaf_hashes"], validate=True),
            frontier=frontier,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SinkError(f"malformed checkpoint file ({type(exc).__name__})") from None
    if document.get("format") != FORMAT:
        raise SinkError(f"unknown checkpoint file format {document.get('format')!r}")
    if len(checkpoint.leaf_hashes) != (note.size - checkpoint.leaves_from) * HASH_SIZE:
        raise SinkError(f"checkpoint {note.size}: leaf hash count does not match")
    return checkpoint


class FileSink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _log_dir(self, log_id: uuid.UUID) -> Path:
        return self.directory / str(log_id)

    def write(self, log_id: uuid.UUID, checkpoint: SinkCheckpoint) -> Path:
        """Write a checkpoint file once; writing the same one again is a no-op,
        a different one at the same size is an error."""
        folder = self._log_dir(log_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        path = folder / f"{checkpoint.size:015d}.json"
        text = checkpoint.to_json()
        if path.exists():
            if path.read_text() == text:
                return path
            raise SinkError(f"{path} exists with a different checkpoint")
        temporary = folder / f".{path.name}.{os.getpid()}.tmp"
        with open(temporary, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # A hard link fails if the name exists, so a checkpoint file is never
        # replaced, even by two writers at once.
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise SinkError(f"{path} was written by another process") from None
        finally:
            temporary.unlink()
        directory_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
        return path

    def log_ids(self) -> set[uuid.UUID]:
        """The logs that have a folder in the sink."""
        if not self.directory.is_dir():
            return set()
        found = set()
        for path in self.directory.iterdir():
            try:
                found.add(uuid.UUID(path.name))
            except ValueError:
                continue
        return found

    def sizes(self, log_id: uuid.UUID) -> list[int]:
        folder = self._log_dir(log_id)
        if not folder.is_dir():
            return []
        return sorted(
            int(path.stem)
            for path in folder.glob("*.json")
            if path.stem.isdigit() and len(path.stem) == 15
        )

    def read(self, log_id: uuid.UUID, size: int) -> SinkCheckpoint:
        path = self._log_dir(log_id) / f"{size:015d}.json"
        try:
            checkpoint = parse_checkpoint(path.read_text())
        except OSError as exc:
            raise SinkError(f"{path} cannot be read ({exc.strerror})") from None
        if checkpoint.size != size:
            raise SinkError(f"{path} holds the checkpoint of size {checkpoint.size}")
        return checkpoint

    def read_all(self, log_id: uuid.UUID, from_size: int = 0) -> list[SinkCheckpoint]:
        return [
            self.read(log_id, size) for size in self.sizes(log_id) if size >= from_size
        ]

    def latest(self, log_id: uuid.UUID) -> SinkCheckpoint | None:
        sizes = self.sizes(log_id)
        return self.read(log_id, sizes[-1]) if sizes else None
