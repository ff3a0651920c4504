"""File annotation: upload one file, several, or a zip archive, then watch
the batch's progress. Submission goes through ``annotation.batches``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from appliance.annotation import batches
from appliance.annotation.models import Batch
from appliance.portal.views.access import requires, signed_in_user

POLL_SECONDS = 2


@require_http_methods(["GET", "POST"])
@requires("jobs.submit_job")
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/annotation_new.html")

    files = request.FILES.getlist("files")
    try:
        uploads = [_read(position, item) for position, item in enumerate(files, 1)]
        found, is_batch = batches.collect(uploads)
    except batches.UploadRejected as error:
        messages.error(request, error.message)
        return render(request, "portal/annotation_new.html", status=400)

    user = signed_in_user(request)
    if is_batch:
        batch = batches.submit_batch(user, found)
        return redirect("portal:batch", batch_id=batch.id)
    job = batches.submit_file(user, found[0])
    return redirect("portal:job", job_id=job.id)


def _read(position: int, item: object) -> batches.Upload:
    size = getattr(item, "size", 0)
    if size > settings.MAX_UPLOAD_BYTES:
        raise batches.UploadRejected(
            f"File {position} is larger than {settings.MAX_UPLOAD_BYTES} bytes."
        )
    name = str(getattr(item, "name", "") or f"file-{position}")
    return batches.Upload(name, item.read())  # type: ignore[attr-defined]


def _batch(request: HttpRequest, batch_id: uuid.UUID) -> Batch:
    batch = Batch.objects.visible_to(signed_in_user(request)).filter(id=batch_id)
    found = batch.first()
    if found is None:
        raise Http404("No such batch.")
    return found


def _progress_context(batch: Batch) -> dict[str, object]:
    items = [(item, batches.filename(item)) for item in batches.items(batch)]
    return {
        "batch": batch,
        "progress": batches.progress(batch),
        "items": items,
        "poll_seconds": POLL_SECONDS,
    }


@require_GET
@requires("jobs.submit_job")
def batch_detail(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    context = _progress_context(_batch(request, batch_id))
    return render(request, "portal/batch.html", context)


@require_GET
@requires("jobs.submit_job")
def batch_progress(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    """Render the progress fragment that the batch page polls with htmx."""
    context = _progress_context(_batch(request, batch_id))
    return render(request, "portal/_batch_progress.html", context)
