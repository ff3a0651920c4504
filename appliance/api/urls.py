from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from appliance.api import hr, views

urlpatterns = [
    path(
        "v1/compliance-checks",
        views.ComplianceCheckCreate.as_view(),
        name="compliance-check-create",
    ),
    path("v1/jobs", views.JobList.as_view(), name="job-list"),
    path("v1/jobs/<uuid:job_id>", views.JobDetail.as_view(), name="job-detail"),
    path("v1/jobs/<uuid:job_id>/retry", views.JobRetry.as_view(), name="job-retry"),
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
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
]
