"""Review endpoints: a reviewer's queue, one review, a decision per finding
and the sign-off. Only users with the review permission reach them, and a
reviewer reaches only the reviews routed to them."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appliance.api.errors import error_response
from appliance.api.idempotency import IdempotentMixin
from appliance.api.serializers import ERROR_RESPONSES
from appliance.api.views import request_user
from appliance.compliance import reviews
from appliance.compliance.models import Decision, Review

# HTTP status for each ReviewError code; anything else is a 409 conflict.
ERROR_STATUS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "own_request": status.HTTP_403_FORBIDDEN,
    "reason_required": status.HTTP_400_BAD_REQUEST,
    "reason_too_long": status.HTTP_400_BAD_REQUEST,
    "invalid_decision": status.HTTP_400_BAD_REQUEST,
    "invalid_verdict": status.HTTP_400_BAD_REQUEST,
}


class CanReviewChecks(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm(reviews.REVIEW_PERMISSION))


class FindingDecisionInput(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(
        choices=Decision.choices,
        help_text="accept: the finding stands (fail); override: dismissed (pass).",
    )
    reason = serializers.CharField(
        max_length=reviews.MAX_REASON_CHARS, help_text="Why; required."
    )


class SignOffInput(serializers.Serializer[Any]):
    verdict = serializers.ChoiceField(
        choices=reviews.FINAL_VERDICTS, help_text="The final verdict."
    )
    reason = serializers.CharField(
        max_length=reviews.MAX_REASON_CHARS, help_text="Why; required."
    )


def _failure(error: reviews.ReviewError) -> Response:
    code = ERROR_STATUS.get(error.code, status.HTTP_409_CONFLICT)
    return error_response(error.code, error.message, code)


def _summary(review: Review) -> dict[str, Any]:
    return {
        "id": str(review.pk),
        "job_id": str(review.job_id),
        "machine_verdict": review.machine_verdict,
        "suggest_escalation": review.suggest_escalation,
        "rulebook": {
            "id": review.rulebook_version.rulebook.slug,
            "version": str(review.rulebook_version.number),
        },
        "created_at": review.created_at.isoformat(),
    }


class ReviewQueue(APIView):
    permission_classes = [IsAuthenticated, CanReviewChecks]

    @extend_schema(
        responses={200: dict, **ERROR_RESPONSES},
        summary="Open reviews routed to you, oldest first",
        operation_id="reviews_list",
    )
    def get(self, request: Request) -> Response:
        queue = reviews.queue_for(request_user(request))
        return Response({"results": [_summary(review) for review in queue]})


class ReviewDetail(APIView):
    permission_classes = [IsAuthenticated, CanReviewChecks]

    @extend_schema(
        responses={200: dict, **ERROR_RESPONSES},
        summary="A review: the text, its findings with offsets, the record",
    )
    def get(self, request: Request, review_id: uuid.UUID) -> Response:
        try:
            review = reviews.review_for(request_user(request), review_id)
            return Response(reviews.detail(review))
        except reviews.ReviewError as error:
            return _failure(error)


class FindingDecisionView(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanReviewChecks]

    @extend_schema(
        request=FindingDecisionInput,
        responses={200: dict, 409: dict, **ERROR_RESPONSES},
        summary="Accept or override one finding, with a reason",
    )
    def post(self, request: Request, review_id: uuid.UUID, index: int) -> Response:
        data = FindingDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        try:
            review = reviews.review_for(user, review_id)
            reviews.decide(
                review,
                user,
                index,
                data.validated_data["decision"],
                data.validated_data["reason"],
            )
        except reviews.ReviewError as error:
            return _failure(error)
        return Response(reviews.record_of(review))


class ReviewSignOff(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, CanReviewChecks]

    @extend_schema(
        request=SignOffInput,
        responses={200: dict, 409: dict, **ERROR_RESPONSES},
        summary="Sign off a review with the final verdict and a reason",
    )
    def post(self, request: Request, review_id: uuid.UUID) -> Response:
        data = SignOffInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        try:
            review = reviews.review_for(user, review_id)
            review = reviews.sign_off(
                review,
                user,
                data.validated_data["verdict"],
                data.validated_data["reason"],
            )
        except reviews.ReviewError as error:
            return _failure(error)
        return Response(reviews.record_of(review))
