from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from appliance.api import annotations, escalations, hr, reviews, views

urlpatterns = [
    path(
        "v1/compliance-checks",
        views.ComplianceCheckCreate.as_view(),
        name="compliance-check-create",
    ),
    path("v1/jobs", views.JobList.as_view(), name="job-list"),
    path("v1/jobs/<uuid:job_id>", views.JobDetail.as_view(), name="job-detail"),
    path("v1/jobs/<uuid:job_id>/retry", views.JobRetry.as_view(), name="job-retry"),
    path("v1/webhooks", views.WebhookList.as_view(), name="webhook-list"),
    path(
        "v1/webhooks/<uuid:webhook_id>",
        views.WebhookDetail.as_view(),
        name="webhook-detail",
    ),
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path(
        "redoc", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"
    ),
    path(
        "v1/escalations",
        escalations.EscalationList.as_view(),
        name="escalation-list",
    ),
    path(
        "v1/escalations/<uuid:escalation_id>",
        escalations.EscalationDetail.as_view(),
        name="escalation-detail",
    ),
    path(
        "v1/escalations/<uuid:escalation_id>/approve",
        escalations.EscalationApprove.as_view(),
        name="escalation-approve",
    ),
    path(
        "v1/escalations/<uuid:escalation_id>/reject",
        escalations.EscalationReject.as_view(),
        name="escalation-reject",
    ),
    path(
        "v1/escalations/<uuid:escalation_id>/accept",
        escalations.EscalationAccept.as_view(),
        name="escalation-accept",
    ),
    path(
        "v1/escalation-policy",
        escalations.EscalationPolicyView.as_view(),
        name="escalation-policy",
    ),
    # The entry points, for a script that opens /api/ (the portal has /).
    path("", views.Index.as_view(), name="index"),
    path("v1/reviews", reviews.ReviewQueue.as_view(), name="review-queue"),
    path(
        "v1/reviews/<uuid:review_id>",
        reviews.ReviewDetail.as_view(),
        name="review-detail",
    ),
    path(
        "v1/reviews/<uuid:review_id>/findings/<int:index>",
        reviews.FindingDecisionView.as_view(),
        name="review-finding",
    ),
    path(
        "v1/reviews/<uuid:review_id>/sign-off",
        reviews.ReviewSignOff.as_view(),
        name="review-sign-off",
    ),
    path("v1/hr/questions", hr.HrQuestionCreate.as_view(), name="hr-question-create"),
    path("v1/hr/policies", hr.HrPolicyCreate.as_view(), name="hr-policy-create"),
    path(
        "v1/hr/policies/<int:version_id>",
        hr.HrPolicyDetail.as_view(),
        name="hr-policy-detail",
    ),
    path(
        "v1/hr/answers/<uuid:turn_id>/feedback",
        hr.HrFeedbackCreate.as_view(),
        name="hr-feedback-create",
    ),
    path("v1/hr/feedback", hr.HrFeedbackList.as_view(), name="hr-feedback-list"),
    path(
        "v1/annotations",
        annotations.AnnotationCreate.as_view(),
        name="annotation-create",
    ),
    path(
        "v1/annotations/<uuid:job_id>",
        annotations.AnnotationDetail.as_view(),
        name="annotation-detail",
    ),
    path(
        "v1/annotations/<uuid:job_id>/file",
        annotations.AnnotatedFile.as_view(),
        name="annotation-file",
    ),
    path(
        "v1/annotations/batches/<uuid:batch_id>",
        annotations.BatchDetail.as_view(),
        name="annotation-batch-detail",
    ),
    path(
        "v1/annotations/batches/<uuid:batch_id>/export",
        annotations.BatchExport.as_view(),
        name="annotation-batch-export",
    ),
]
