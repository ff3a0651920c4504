from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from appliance.api import annotations, views

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
