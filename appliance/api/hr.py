"""API views for HR policy questions: ask (JSON or server-sent events),
upload policies, and give or review feedback on answers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appliance.accounts.models import Team
from appliance.api.errors import error_body, error_response
from appliance.api.idempotency import IdempotentMixin
from appliance.api.permissions import CanSubmitJobs
from appliance.api.serializers import ERROR_RESPONSES
from appliance.api.views import request_user
from appliance.errors import ApplianceError, TransientError
from appliance.hr import answering, feedback, library
from appliance.hr.models import PolicyVersion

EVENT_STREAM = "text/event-stream"


class EventStreamRenderer(BaseRenderer):
    """Renderer for clients that accept ``text/event-stream``. An error
    response returned before the stream starts becomes one ``error``
    event."""

    media_type = EVENT_STREAM
    format = "sse"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return event("error", data.get("error", data) if data else {})


def event(name: str, data: Any) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {payload}\n\n".encode()


class CanManagePolicies(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("hr.manage_policies"))


class CanReviewFeedback(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("hr.review_feedback"))


class Question(serializers.Serializer[Any]):
    question = serializers.CharField(
        max_length=answering.MAX_QUESTION_CHARS, trim_whitespace=True
    )
    conversation = serializers.UUIDField(required=False, allow_null=True)


class PolicyUpload(serializers.Serializer[Any]):
    file = serializers.FileField()
    title = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=40)
    effective_from = serializers.DateField()
    policy = serializers.SlugField(
        max_length=120,
        required=False,
        help_text="Key shared by every version of the policy; default: the "
        "title in lower case with hyphens.",
    )
    teams = serializers.ListField(
        child=serializers.CharField(max_length=120),
        required=False,
        help_text="Team names that may see this version; absent: everyone.",
    )


class FeedbackInput(serializers.Serializer[Any]):
    rating = serializers.ChoiceField(choices=["helpful", "wrong"])
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


def _wants_stream(request: Request) -> bool:
    if request.query_params.get("stream") in ("1", "true"):
        return True
    return EVENT_STREAM in request.headers.get("Accept", "")


def _sse(prepared: answering.Prepared) -> Iterator[bytes]:
    yield event("conversation", {"conversation": str(prepared.conversation.id)})
    try:
        for item in prepared.events():
            if isinstance(item, answering.Token):
                yield event("token", {"text": item.text})
            else:
                yield event("answer", item.answer)
    except ApplianceError as exc:
        yield event("error", error_body(exc.reason, exc.message)["error"])
    yield event("done", {})


def _unavailable(exc: TransientError) -> Response:
    return error_response(exc.reason, exc.message, status.HTTP_503_SERVICE_UNAVAILABLE)


class HrQuestionCreate(APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        request=Question,
        responses={200: dict[str, Any], **ERROR_RESPONSES},
        parameters=[
            OpenApiParameter(
                "stream",
                str,
                description="1: stream the answer as server-sent events (or send "
                "Accept: text/event-stream).",
            )
        ],
        summary="Ask a question of the HR policies",
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        serializer = Question(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request_user(request)
        try:
            prepared = answering.prepare(
                user, data["question"], conversation_id=data.get("conversation")
            )
        except answering.ConversationNotFound:
            raise NotFound() from None
        except TransientError as exc:
            return _unavailable(exc)
        if _wants_stream(request):
            response = StreamingHttpResponse(_sse(prepared), content_type=EVENT_STREAM)
            # Proxies (nginx) must pass each event on as it comes.
            response["X-Accel-Buffering"] = "no"
            response["Cache-Control"] = "no-cache"
            return response
        try:
            answer = answering.drain(prepared)
        except TransientError as exc:
            return _unavailable(exc)
        return Response(answer)


def _version_data(version: PolicyVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "policy": version.policy.key,
        "title": version.title,
        "version": version.version,
        "effective_from": version.effective_from.isoformat(),
        "teams": sorted(version.teams.values_list("name", flat=True)),
        "state": version.state,
        "reason": version.reason,
    }


class HrPolicyCreate(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanManagePolicies]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=PolicyUpload,
        responses={202: dict[str, Any], **ERROR_RESPONSES},
        summary="Upload a policy version (HR administrators)",
    )
    def post(self, request: Request) -> Response:
        serializer = PolicyUpload(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        teams = []
        for name in data.get("teams", []):
            team = Team.objects.filter(name=name).first()
            if team is None:
                return error_response(
                    "invalid_request",
                    f"No team named {name!r}. Create it in the admin first.",
                    status.HTTP_400_BAD_REQUEST,
                )
            teams.append(team)
        upload = library.Upload(
            data=data["file"].read(),
            filename=data["file"].name or "",
            title=data["title"],
            version=data["version"],
            effective_from=data["effective_from"],
            policy_key=data.get("policy", ""),
            teams=tuple(teams),
        )
        try:
            version = library.add_version(upload, uploaded_by=request_user(request))
        except library.PolicyConflict:
            return error_response(
                "conflict",
                "This policy already has a version with that name. Upload the "
                "new text under a new version.",
                status.HTTP_409_CONFLICT,
            )
        return Response(
            _version_data(version),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/hr/policies/{version.id}"},
        )


class HrPolicyDetail(APIView):
    permission_classes = [IsAuthenticated, CanManagePolicies]

    @extend_schema(
        responses={200: dict[str, Any], **ERROR_RESPONSES},
        summary="A policy version and its indexing state",
    )
    def get(self, request: Request, version_id: int) -> Response:
        version = PolicyVersion.objects.filter(id=version_id).first()
        if version is None:
            raise NotFound()
        return Response(_version_data(version))


class HrFeedbackCreate(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanSubmitJobs]
    parser_classes = [JSONParser]

    @extend_schema(
        request=FeedbackInput,
        responses={201: dict[str, Any], **ERROR_RESPONSES},
        summary="Rate an answer as helpful or wrong",
    )
    def post(self, request: Request, turn_id: Any) -> Response:
        serializer = FeedbackInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            stored = feedback.give(
                request_user(request),
                turn_id,
                rating=data["rating"],
                comment=data.get("comment", ""),
            )
        except feedback.AnswerNotFound:
            raise NotFound() from None
        return Response(feedback.as_dict(stored), status=status.HTTP_201_CREATED)


class HrFeedbackList(APIView):
    permission_classes = [IsAuthenticated, CanReviewFeedback]

    @extend_schema(
        responses={200: dict[str, Any], **ERROR_RESPONSES},
        summary="Feedback on answers, newest first (HR administrators)",
    )
    def get(self, request: Request) -> Response:
        rating = request.query_params.get("rating")
        items = feedback.for_review(rating=rating)
        return Response({"results": [feedback.as_dict(item) for item in items]})
