"""API views: parse, authorize, call a service. No business logic here."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appliance.accounts.models import ApiKey, User
from appliance.api import health
from appliance.api.errors import error_response
from appliance.api.idempotency import IdempotentMixin
from appliance.api.permissions import CanSubmitJobs
from appliance.api.serializers import (
    ERROR_RESPONSES,
    ComplianceCheck,
    ErrorSerializer,
    JobSerializer,
    WebhookCreatedSerializer,
    WebhookSerializer,
)
from appliance.audit.models import Outcome
from appliance.audit.services import record
from appliance.compliance.services import check_options, result_for
from appliance.documents.extraction import DocumentError, extract
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload
from appliance.webhooks import services as webhooks
from appliance.webhooks.models import Endpoint

MAX_WAIT_SECONDS = 60
POLL_SECONDS = 0.25
# Requests per process that may wait for a verdict at the same time.
MAX_WAITERS = 4
_waiters = threading.BoundedSemaphore(MAX_WAITERS)


def _render(job: Job, user: User) -> dict[str, Any]:
    context = {"results": {str(job.id): result_for(job, user)}}
    data: dict[str, Any] = JobSerializer(job, context=context).data
    return data


def _wait_seconds(request: Request) -> float:
    raw = request.query_params.get("wait", "0")
    try:
        wait = float(raw)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= MAX_WAIT_SECONDS:  # also rejects NaN
        raise ValidationError(
            {"wait": [f"A number of seconds from 0 to {MAX_WAIT_SECONDS}."]}
        )
    return wait


def _wait_for(job: Job, seconds: float) -> Job:
    """Poll until the job is final or ``seconds`` pass. Each waiting request
    holds a server thread, so only MAX_WAITERS requests per process wait at
    once; the others get their 202 at once."""
    if not _waiters.acquire(blocking=False):
        return job
    try:
        deadline = time.monotonic() + seconds
        while not job.is_final and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job.refresh_from_db()
    finally:
        _waiters.release()
    return job


def _submitted_text(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The text to check and where it came from (sealed with it)."""
    upload = data.get("file")
    if upload is None:
        return data["text"], {}
    extracted = extract(upload.read())
    text = extracted.full_text()
    if len(text) > settings.MAX_INPUT_CHARS:
        raise DocumentError(
            f"The file holds {len(text)} characters of text, more than the "
            f"{settings.MAX_INPUT_CHARS} one check accepts. Split the document.",
            reason="input_too_large",
        )
    return text, {"filename": upload.name, "content_type": extracted.content_type}


class ComplianceCheckCreate(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=ComplianceCheck,
        responses={200: JobSerializer, 202: JobSerializer, **ERROR_RESPONSES},
        parameters=[
            OpenApiParameter(
                "wait",
                float,
                description="Seconds (at most 60) to wait for the verdict before "
                "answering 202 with the queued job.",
            )
        ],
        summary="Submit a text or file for a compliance check",
    )
    def post(self, request: Request) -> Response:
        wait = _wait_seconds(request)
        serializer = ComplianceCheck(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        text, source = _submitted_text(data)
        user = request_user(request)
        job = jobs.submit(
            user,
            Workload.COMPLIANCE_CHECK,
            text=text,
            source=source,
            options=check_options(
                data["rulebook"],
                channel=data.get("channel"),
                product=data.get("product"),
                audience=data.get("audience"),
            ),
            api_key=request_key(request),
        )
        if wait:
            job = _wait_for(job, wait)
        code = status.HTTP_200_OK if job.is_final else status.HTTP_202_ACCEPTED
        return Response(
            _render(job, user),
            status=code,
            headers={"Location": f"/api/v1/jobs/{job.id}"},
        )


def request_user(request: Request) -> User:
    """Return the signed-in user; views that call this require IsAuthenticated."""
    user = request.user
    assert isinstance(user, User)
    return user


def request_key(request: Request) -> ApiKey | None:
    """The API key the request authenticated with, if any."""
    return request.auth if isinstance(request.auth, ApiKey) else None


def visible_job(request: Request, job_id: uuid.UUID) -> Job:
    """Return the job if ``request.user`` may read it, else raise NotFound
    (never a 403), so that job ids reveal nothing. A refusal is audited."""
    user = request_user(request)
    job = Job.objects.visible_to(user, request_key(request)).filter(id=job_id).first()
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


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    """An ISO 8601 filter that queries in UTC: Python accepts UTC offsets up
    to 23:59, PostgreSQL only up to 15:59, so the value is converted first."""

    def filter(self, qs: QuerySet[Job], value: Any) -> QuerySet[Job]:
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise ValidationError(
                    {self.field_name: ["The time is out of range."]}
                ) from None
        result: QuerySet[Job] = super().filter(qs, value)
        return result


class JobFilter(django_filters.FilterSet):  # type: ignore[misc]
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ["state", "workload", "reason"]


class JobList(generics.ListAPIView[Job]):
    """Your jobs, newest first; filter by state, workload, reason and
    creation time."""

    serializer_class = JobSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = JobFilter

    def get_queryset(self) -> QuerySet[Job]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Job.objects.none()
        user = request_user(self.request)
        key = request_key(self.request)
        return Job.objects.visible_to(user, key).filter(owner=user)


class JobDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: JobSerializer, **ERROR_RESPONSES},
        summary="A job's state and result",
    )
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        job = visible_job(request, job_id)
        return Response(_render(job, request_user(request)))


class JobRetry(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]

    @extend_schema(
        request=None,
        responses={202: JobSerializer, 409: ErrorSerializer, **ERROR_RESPONSES},
        summary="Retry a failed job",
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        job = visible_job(request, job_id)
        user = request_user(request)
        if job.owner_id != user.pk:
            raise PermissionDenied()
        try:
            job = jobs.retry(job, user)
        except jobs.JobNotRetryable:
            return error_response(
                "not_retryable",
                "Only a failed job whose failure was not caused by its input can be "
                "retried as it is.",
                status.HTTP_409_CONFLICT,
            )
        return Response(_render(job, user), status=status.HTTP_202_ACCEPTED)


class Index(APIView):
    """Where things are, for a person or a script that opens /api/."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "Private AI appliance",
                "links": {
                    "compliance_checks": "/api/v1/compliance-checks",
                    "jobs": "/api/v1/jobs",
                    "reviews": "/api/v1/reviews",
                    "openapi_schema": "/api/schema",
                    "admin": "/admin/",
                    "health": "/healthz?deep=1",
                },
            }
        )


class Health(APIView):
    """Liveness and readiness: the database, the broker and every engine."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        report = health.check(deep=request.query_params.get("deep") == "1")
        code = (
            status.HTTP_200_OK
            if report["status"] == "ok"
            else status.HTTP_503_SERVICE_UNAVAILABLE
        )
        return Response(report, status=code)


class WebhookList(IdempotentMixin, generics.ListAPIView[Endpoint]):
    """Your webhooks: POST registers a URL to be told when your jobs finish."""

    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, CanSubmitJobs]

    def get_queryset(self) -> QuerySet[Endpoint]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Endpoint.objects.none()
        return Endpoint.objects.filter(owner=request_user(self.request))

    @extend_schema(
        request=WebhookSerializer,
        responses={201: WebhookCreatedSerializer, **ERROR_RESPONSES},
        summary="Register a webhook for your finished jobs",
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            created = webhooks.create_endpoint(
                request_user(request),
                serializer.validated_data["url"],
                serializer.validated_data.get("description", ""),
            )
        except webhooks.WebhookError as exc:
            raise ValidationError({"url": [str(exc)]}) from None
        data = dict(WebhookSerializer(created.endpoint).data)
        data["secret"] = created.secret
        return Response(
            data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/webhooks/{created.endpoint.id}"},
        )


class WebhookDetail(APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]

    def _endpoint(self, request: Request, webhook_id: uuid.UUID) -> Endpoint:
        endpoint = Endpoint.objects.filter(
            owner=request_user(request), id=webhook_id
        ).first()
        if endpoint is None:
            raise NotFound()
        return endpoint

    @extend_schema(
        responses={200: WebhookSerializer, **ERROR_RESPONSES}, summary="A webhook"
    )
    def get(self, request: Request, webhook_id: uuid.UUID) -> Response:
        return Response(WebhookSerializer(self._endpoint(request, webhook_id)).data)

    @extend_schema(
        responses={204: None, **ERROR_RESPONSES},
        summary="Disable a webhook; its pending deliveries are dropped",
    )
    def delete(self, request: Request, webhook_id: uuid.UUID) -> Response:
        endpoint = self._endpoint(request, webhook_id)
        webhooks.disable_endpoint(endpoint, request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
