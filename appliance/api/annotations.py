"""Annotation API views: submit files, read one annotation or a batch's
progress, export a batch, download a file with its annotation written in.

Annotations are visible to their owner only (and, for a service account, to
the API key that submitted them); anyone else gets 404, as for jobs.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appliance.annotation import batches, export, services
from appliance.annotation.models import Batch
from appliance.annotation.writeback import WritebackUnsupported
from appliance.api.errors import error_response
from appliance.api.idempotency import IdempotentMixin
from appliance.api.permissions import CanSubmitJobs
from appliance.api.serializers import ERROR_RESPONSES, ErrorSerializer, JobSerializer
from appliance.api.views import request_key, request_user
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.jobs.models import Job, State, Workload

UPLOAD_FIELDS = ("file", "files")


def _owned_job(request: Request, job_id: uuid.UUID) -> Job:
    """Return the annotation job if the requester owns it, else raise
    NotFound. A refusal of an existing job is audited."""
    user = request_user(request)
    job = (
        Job.objects.visible_to(user, request_key(request))
        .filter(id=job_id, owner=user, workload=Workload.ANNOTATION)
        .first()
    )
    if job is not None:
        return job
    if Job.objects.filter(id=job_id).exists():
        record(
            "job.access_denied",
            actor=user,
            object_type="job",
            object_id=job_id,
            outcome=Outcome.DENIED,
            durable=True,
        )
    raise NotFound()


def _owned_batch(request: Request, batch_id: uuid.UUID) -> Batch:
    user = request_user(request)
    batch = (
        Batch.objects.visible_to(user, request_key(request)).filter(id=batch_id).first()
    )
    if batch is not None:
        return batch
    if Batch.objects.filter(id=batch_id).exists():
        record(
            "annotation.batch_access_denied",
            actor=user,
            object_type="annotation_batch",
            object_id=batch_id,
            outcome=Outcome.DENIED,
            durable=True,
        )
    raise NotFound()


def render_job(job: Job, request: Request) -> dict[str, Any]:
    result = services.result_for(job, request_user(request))
    data: dict[str, Any] = JobSerializer(
        job, context={"results": {str(job.id): result}}
    ).data
    return data


def render_batch(batch: Batch, *, with_items: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(batch.id),
        "kind": "batch",
        "created_at": batch.created_at.isoformat(),
        "progress": batches.progress(batch),
        "links": {
            "self": f"/api/v1/annotations/batches/{batch.id}",
            "export_jsonl": f"/api/v1/annotations/batches/{batch.id}/export"
            "?format=jsonl",
            "export_csv": f"/api/v1/annotations/batches/{batch.id}/export?format=csv",
        },
    }
    if with_items:
        data["items"] = [
            {
                "position": item.position,
                "filename": batches.filename(item),
                "job_id": str(item.job_id),
                "state": item.job.state,
                "reason": item.job.reason or None,
            }
            for item in batches.items(batch)
        ]
    return data


def _uploads(request: Request) -> list[batches.Upload]:
    files = [
        upload for field in UPLOAD_FIELDS for upload in request.FILES.getlist(field)
    ]
    if not files:
        raise ValidationError({"file": ["Send one or more files, or a zip archive."]})
    for position, upload in enumerate(files, start=1):
        if upload.size > settings.MAX_UPLOAD_BYTES:
            raise ValidationError(
                {
                    "file": [
                        f"File {position} is larger than "
                        f"{settings.MAX_UPLOAD_BYTES} bytes."
                    ]
                }
            )
    return [batches.Upload(upload.name or "", upload.read()) for upload in files]


UPLOAD_SCHEMA = inline_serializer(
    "AnnotationUpload",
    {
        "file": serializers.ListField(
            child=serializers.FileField(),
            help_text="One file, several files, or a zip archive of files.",
        )
    },
)


class AnnotationCreate(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": UPLOAD_SCHEMA},
        responses={202: OpenApiTypes.OBJECT, **ERROR_RESPONSES},
        parameters=[
            OpenApiParameter(
                "batch",
                bool,
                description="Make a batch even of a single file.",
            )
        ],
        summary="Submit files for annotation",
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        key = request_key(request)
        try:
            files, is_batch = batches.collect(_uploads(request))
        except batches.UploadRejected as exc:
            return error_response(exc.code, exc.message, status.HTTP_400_BAD_REQUEST)
        if is_batch or request.query_params.get("batch") in ("1", "true"):
            batch = batches.submit_batch(user, files, api_key=key)
            return Response(
                render_batch(batch, with_items=False),
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": f"/api/v1/annotations/batches/{batch.id}"},
            )
        job = batches.submit_file(user, files[0], api_key=key)
        return Response(
            {"kind": "job", **render_job(job, request)},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/annotations/{job.id}"},
        )


class AnnotationDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: JobSerializer, **ERROR_RESPONSES},
        summary="An annotation job's state and result",
    )
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        job = _owned_job(request, job_id)
        return Response({"kind": "job", **render_job(job, request)})


class AnnotatedFile(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            409: ErrorSerializer,
            **ERROR_RESPONSES,
        },
        summary="The file with its annotation written in (PDF and DOCX)",
    )
    def get(self, request: Request, job_id: uuid.UUID) -> Response | HttpResponse:
        job = _owned_job(request, job_id)
        if job.state != State.SUCCEEDED:
            return error_response(
                "not_ready",
                "The annotation is not finished or failed; there is no annotated "
                "file to download.",
                status.HTTP_409_CONFLICT,
            )
        try:
            annotated = services.annotated_file(job, request_user(request))
        except WritebackUnsupported as exc:
            return error_response(
                "writeback_unsupported", str(exc), status.HTTP_409_CONFLICT
            )
        if annotated is None:
            raise NotFound()
        content, content_type, name = annotated
        record(
            "annotation.file_downloaded",
            actor=request_user(request),
            object_type="job",
            object_id=job.id,
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=name or f"{job.id}"
        )
        return response


class BatchDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, **ERROR_RESPONSES},
        summary="A batch's progress and its files' states",
    )
    def get(self, request: Request, batch_id: uuid.UUID) -> Response:
        return Response(render_batch(_owned_batch(request, batch_id)))


class FormatIsAParameter(DefaultContentNegotiation):
    """Render errors as JSON always, because the export view's ``format``
    query parameter chooses the export format, not DRF's renderer."""

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        renderer = renderers[0]
        return renderer, renderer.media_type


EXPORT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


class BatchExport(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = FormatIsAParameter

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_TYPES))],
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERROR_RESPONSES},
        summary="Export a batch's annotations as JSON Lines or CSV",
    )
    def get(self, request: Request, batch_id: uuid.UUID) -> Response | HttpResponse:
        batch = _owned_batch(request, batch_id)
        kind = request.query_params.get("format", "jsonl")
        if kind not in EXPORT_TYPES:
            raise ValidationError({"format": ["Choose jsonl or csv."]})
        user = request_user(request)
        body = (
            export.to_jsonl(batch, user)
            if kind == "jsonl"
            else export.to_csv(batch, user)
        )
        record(
            "annotation.batch_exported",
            actor=user,
            object_type="annotation_batch",
            object_id=batch.id,
            details={"format": kind},
        )
        response = HttpResponse(body, content_type=EXPORT_TYPES[kind])
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"annotations-{batch.id}.{kind}"
        )
        return response
