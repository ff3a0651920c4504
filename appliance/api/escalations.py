"""Escalation endpoints: parse, authorize, call ``escalation.services``.

GET on one request returns the exact bytes that would be sent, as a string
(the UTF-8 decoding of the body, so ``sha256(body.encode())`` equals
``body_sha256``). Approvers send that SHA-256 back with their decision.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appliance.accounts.models import User
from appliance.api.errors import error_response
from appliance.api.idempotency import IdempotentMixin
from appliance.api.serializers import ERROR_RESPONSES, ErrorSerializer
from appliance.api.views import request_user, visible_job
from appliance.escalation import policy, services, versions
from appliance.escalation.errors import EscalationError
from appliance.escalation.models import EscalationRequest, PolicyVersion

# HTTP status for each escalation error code; the rest are 400.
_STATUS = {
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "invalid_state": status.HTTP_409_CONFLICT,
    "expired": status.HTTP_409_CONFLICT,
    "body_changed": status.HTTP_409_CONFLICT,
    "second_factor_required": status.HTTP_403_FORBIDDEN,
    "not_escalatable": status.HTTP_409_CONFLICT,
}


class CanUseEscalations(BasePermission):
    """Roles that may request or approve escalations."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user
            and (
                user.has_perm("escalation.request_escalation")
                or user.has_perm("escalation.approve_escalation")
            )
        )


class CanApproveEscalations(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.has_perm("escalation.approve_escalation"))


class CanManagePolicy(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.has_perm("escalation.manage_escalation_policy"))


class EscalationCreate(serializers.Serializer[Any]):
    job = serializers.UUIDField(help_text="The job whose result to escalate.")
    provider = serializers.CharField(max_length=64)
    model = serializers.CharField(max_length=128)
    question = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=services.MAX_QUESTION_CHARS,
        trim_whitespace=False,
        help_text="Redacted in the job's scope before it is added to the prompt.",
    )
    classification = serializers.ChoiceField(
        choices=policy.CLASSIFICATIONS,
        required=False,
        allow_null=True,
        default=None,
        help_text="Declare a higher classification than redaction implies.",
    )


class Decision(serializers.Serializer[Any]):
    body_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", help_text="SHA-256 of the body you reviewed, in hex."
    )
    reason = serializers.CharField(max_length=2000)
    otp = serializers.CharField(required=False, allow_blank=True, max_length=16)


class EscalationSerializer(serializers.ModelSerializer[EscalationRequest]):
    requester = serializers.CharField(source="requester.username", read_only=True)
    approvals = serializers.SerializerMethodField()

    class Meta:
        model = EscalationRequest
        fields = [
            "id",
            "job",
            "workload",
            "classification",
            "requester",
            "provider",
            "model",
            "state",
            "reason",
            "body_sha256",
            "body_bytes",
            "estimated_prompt_tokens",
            "estimated_completion_tokens",
            "estimated_cost",
            "policy_version",
            "evaluation",
            "approvals_required",
            "approvals",
            "created_at",
            "expires_at",
            "sent_at",
            "prompt_tokens",
            "completion_tokens",
            "cost",
            "answer_accepted_at",
        ]
        read_only_fields = fields

    def get_approvals(self, request: EscalationRequest) -> list[dict[str, Any]]:
        return [
            {
                "approver": approval.approver.username,
                "decision": approval.decision,
                "body_sha256": approval.body_sha256,
                "created_at": approval.created_at,
            }
            for approval in request.approvals.select_related("approver")
        ]


def _error(exc: EscalationError) -> Response:
    return error_response(
        exc.reason, exc.message, _STATUS.get(exc.reason, status.HTTP_400_BAD_REQUEST)
    )


def _visible(request: Request, escalation_id: uuid.UUID) -> EscalationRequest:
    user = request_user(request)
    found = services.visible_to(user).filter(id=escalation_id).first()
    if found is None:
        raise NotFound()
    services.expire_if_due(found)
    return found


def _detail(escalation: EscalationRequest, user: User) -> dict[str, Any]:
    data: dict[str, Any] = dict(EscalationSerializer(escalation).data)
    data["body"] = services.read_body(escalation, user).decode("utf-8")
    data["answer"] = services.answer_for(escalation, user)
    return data


class EscalationList(IdempotentMixin, generics.ListCreateAPIView[EscalationRequest]):
    serializer_class = EscalationSerializer
    permission_classes = [IsAuthenticated, CanUseEscalations]

    def get_queryset(self) -> QuerySet[EscalationRequest]:
        return services.visible_to(request_user(self.request)).select_related(
            "requester"
        )

    @extend_schema(
        request=EscalationCreate,
        responses={201: EscalationSerializer, **ERROR_RESPONSES},
        summary="Ask for a job's result to be escalated to an external model",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EscalationCreate(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request_user(request)
        job = visible_job(request, data["job"])
        proposal = services.Proposal(
            job=job,
            provider=data["provider"],
            model=data["model"],
            question=data["question"],
            classification=data["classification"],
        )
        try:
            escalation = services.create(user, proposal)
        except EscalationError as exc:
            return _error(exc)
        return Response(
            _detail(escalation, user),
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/escalations/{escalation.id}"},
        )


class EscalationDetail(APIView):
    permission_classes = [IsAuthenticated, CanUseEscalations]

    @extend_schema(
        responses={200: EscalationSerializer, **ERROR_RESPONSES},
        summary="An escalation request with its exact body and, for the "
        "requester, the answer",
    )
    def get(self, request: Request, escalation_id: uuid.UUID) -> Response:
        escalation = _visible(request, escalation_id)
        return Response(_detail(escalation, request_user(request)))


class _DecisionView(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanApproveEscalations]
    approve = True

    @extend_schema(
        request=Decision,
        responses={200: EscalationSerializer, 409: ErrorSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request, escalation_id: uuid.UUID) -> Response:
        escalation = _visible(request, escalation_id)
        serializer = Decision(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decide = services.approve if self.approve else services.reject
        user = request_user(request)
        try:
            escalation = decide(
                escalation,
                user,
                body_sha256=data["body_sha256"],
                reason=data["reason"],
                otp=data.get("otp") or None,
            )
        except EscalationError as exc:
            return _error(exc)
        return Response(EscalationSerializer(escalation).data)


class EscalationApprove(_DecisionView):
    approve = True


class EscalationReject(_DecisionView):
    approve = False


class EscalationAccept(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanUseEscalations]

    @extend_schema(
        request=None,
        responses={200: EscalationSerializer, 409: ErrorSerializer, **ERROR_RESPONSES},
        summary="Accept the answer (requester only)",
    )
    def post(self, request: Request, escalation_id: uuid.UUID) -> Response:
        escalation = _visible(request, escalation_id)
        try:
            escalation = services.accept(escalation, request_user(request))
        except EscalationError as exc:
            return _error(exc)
        return Response(EscalationSerializer(escalation).data)


class PolicyPublish(serializers.Serializer[Any]):
    document = serializers.DictField(help_text="The whole policy document.")
    comment = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=200
    )


def _policy_data(version: PolicyVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "source": version.source,
        "comment": version.comment,
        "created_at": version.created_at,
        "document": version.document,
    }


class EscalationPolicyView(IdempotentMixin, APIView):
    """The policy in force, and publication of the next version
    (administrators only)."""

    permission_classes = [IsAuthenticated, CanManagePolicy]

    @extend_schema(responses={200: dict, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return Response(_policy_data(versions.current()))

    @extend_schema(request=PolicyPublish, responses={201: dict, **ERROR_RESPONSES})
    def post(self, request: Request) -> Response:
        serializer = PolicyPublish(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            published = versions.publish(
                data["document"], request_user(request), data["comment"]
            )
        except EscalationError as exc:
            return _error(exc)
        except policy.InvalidPolicy as exc:
            return error_response(
                "invalid_policy", str(exc), status.HTTP_400_BAD_REQUEST
            )
        return Response(_policy_data(published), status=status.HTTP_201_CREATED)
