"""Submitting files for annotation: one file becomes one job, a zip or
several files become a batch with one job per file. Each job is its own
Celery message, so the files run in parallel on as many workers as there
are, and a file that cannot be read fails its own job only.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from appliance import crypto
from appliance.accounts.models import ApiKey, User
from appliance.annotation.models import Batch, BatchItem
from appliance.audit.services import record
from appliance.documents import detection
from appliance.documents.archives import open_checked
from appliance.documents.errors import DocumentError
from appliance.documents.limits import DEFAULT_LIMITS
from appliance.jobs import services as jobs
from appliance.jobs.models import FINAL_STATES, Job, State, Workload

# Bytes of all files of one upload after zip archives are expanded, in
# uploads of the largest size: every file is held in memory to be sealed.
MAX_BATCH_UPLOADS = 10


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


class UploadRejected(ValueError):
    """The upload as a whole cannot become jobs; ``message`` says why and what
    to do, and never quotes a file's content or name."""

    def __init__(self, message: str, code: str = "invalid_upload") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _is_archive(upload: Upload) -> bool:
    return detection.detect(upload.data) == detection.ZIP


def _skipped(name: str) -> bool:
    """Directories and the metadata that archivers add (``__MACOSX/``,
    dot-files) are not documents."""
    path = PurePosixPath(name)
    return name.endswith("/") or any(
        part.startswith(".") or part == "__MACOSX" for part in path.parts
    )


def expand(upload: Upload) -> list[Upload]:
    """The files in a zip archive, in archive order.

    The archive's sizes are checked before anything is inflated; a member
    larger than one upload may be rejects the whole archive, because its
    bytes would have to be held to seal them.
    """
    try:
        archive = open_checked(upload.data, "zip", DEFAULT_LIMITS)
    except DocumentError as exc:
        raise UploadRejected(exc.message, code=exc.reason) from None
    files = []
    with archive:
        for position, member in enumerate(archive.infolist(), start=1):
            if _skipped(member.filename):
                continue
            if member.file_size > settings.MAX_UPLOAD_BYTES:
                raise UploadRejected(
                    f"File {position} in the zip archive is larger than "
                    f"{settings.MAX_UPLOAD_BYTES} bytes. Send it on its own.",
                    code="file_too_large",
                )
            try:
                data = archive.read(member)
            except (zipfile.BadZipFile, OSError, NotImplementedError):
                raise UploadRejected(
                    f"File {position} in the zip archive is corrupt or uses an "
                    "unsupported compression method.",
                    code="corrupt_file",
                ) from None
            files.append(Upload(PurePosixPath(member.filename).name, data))
    return files


def collect(uploads: list[Upload]) -> tuple[list[Upload], bool]:
    """The files to annotate, with zip archives expanded, and whether the
    upload is a batch (several files, or any archive)."""
    files: list[Upload] = []
    archived = False
    for upload in uploads:
        if _is_archive(upload):
            archived = True
            files += expand(upload)
        else:
            files.append(upload)
    limit = settings.ANNOTATION_MAX_BATCH_FILES
    if not files:
        raise UploadRejected("The upload contains no files to annotate.")
    max_bytes = MAX_BATCH_UPLOADS * settings.MAX_UPLOAD_BYTES
    if sum(len(upload.data) for upload in files) > max_bytes:
        raise UploadRejected(
            f"The files of the upload add up to more than {max_bytes} bytes once "
            "expanded. Send them in several uploads.",
            code="file_too_large",
        )
    if len(files) > limit:
        raise UploadRejected(
            f"The upload contains {len(files)} files, more than the {limit} one "
            "batch accepts (APPLIANCE_ANNOTATION_MAX_BATCH_FILES). Split it.",
            code="too_many_files",
        )
    return files, archived or len(files) > 1


def submit_file(
    owner: User, upload: Upload, *, api_key: ApiKey | None = None, enqueue: bool = True
) -> Job:
    """Create one annotation job with the file sealed as its input."""
    return jobs.submit(
        owner,
        Workload.ANNOTATION,
        text="",
        source={"filename": upload.name},
        file=upload.data,
        api_key=api_key,
        enqueue=enqueue,
    )


def submit_batch(
    owner: User,
    files: list[Upload],
    *,
    api_key: ApiKey | None = None,
    enqueue: bool = True,
) -> Batch:
    """Create a batch and one job per file; every message is sent after the
    whole batch commits, so no worker sees a half-made batch."""
    with transaction.atomic():
        batch = Batch.objects.create(owner=owner, api_key=api_key, total=len(files))
        for position, upload in enumerate(files, start=1):
            job = submit_file(owner, upload, api_key=api_key, enqueue=enqueue)
            BatchItem.objects.create(
                batch=batch,
                job=job,
                position=position,
                filename_sealed=crypto.seal(
                    upload.name.encode(), aad=_filename_aad(batch, position)
                ),
            )
        record(
            "annotation.batch_submitted",
            actor=owner,
            object_type="annotation_batch",
            object_id=batch.id,
            details={"files": len(files)},
        )
    return batch


def _filename_aad(batch: Batch, position: int) -> bytes:
    return f"annotation-item:{batch.id}:{position}:filename".encode()


def filename(item: BatchItem) -> str:
    return crypto.unseal(
        bytes(item.filename_sealed), aad=_filename_aad(item.batch, item.position)
    ).decode()


def progress(batch: Batch) -> dict[str, Any]:
    """Counts of the batch's jobs: ``done`` succeeded, ``failed`` failed,
    ``pending`` not finished yet; ``finished`` once pending is 0."""
    rows = (
        Job.objects.filter(annotation_item__batch=batch)
        .values("state")
        .annotate(count=Count("id"))
    )
    states = Counter({row["state"]: row["count"] for row in rows})
    done = states[State.SUCCEEDED]
    failed = states[State.FAILED]
    pending = sum(count for state, count in states.items() if state not in FINAL_STATES)
    return {
        "total": batch.total,
        "done": done,
        "failed": failed,
        "pending": pending,
        "finished": pending == 0,
    }


def items(batch: Batch) -> list[BatchItem]:
    return list(
        BatchItem.objects.filter(batch=batch)
        .select_related("job", "batch")
        .order_by("position")
    )
