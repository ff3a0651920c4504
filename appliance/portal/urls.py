"""The staff portal, mounted at /."""

from django.urls import path

from appliance.portal.views import (
    account,
    annotation,
    escalations,
    hr,
    pages,
    reviews,
)

app_name = "portal"

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", account.SignInView.as_view(), name="login"),
    path("logout/", account.SignOutView.as_view(), name="logout"),
    path("login/verify/", account.verify, name="verify"),
    path("account/two-factor/", account.enrol, name="enrol"),
    path("compliance/new/", pages.compliance_new, name="compliance_new"),
    path("jobs/", pages.job_list, name="jobs"),
    path("jobs/<uuid:job_id>/", pages.job_detail, name="job"),
    path("jobs/<uuid:job_id>/result/", pages.job_result, name="job_result"),
    path("jobs/<uuid:job_id>/escalate/", escalations.create, name="escalation_create"),
    path("escalations/", escalations.mine, name="escalations"),
    path("escalations/approvals/", escalations.approvals, name="approvals"),
    path("escalations/<uuid:request_id>/", escalations.detail, name="escalation"),
    path(
        "escalations/<uuid:request_id>/decide/",
        escalations.decide,
        name="escalation_decide",
    ),
    path(
        "escalations/<uuid:request_id>/accept/",
        escalations.accept,
        name="escalation_accept",
    ),
    path("hr/", hr.chat, name="hr"),
    path("annotation/new/", annotation.upload, name="annotation_new"),
    path("annotation/batches/<uuid:batch_id>/", annotation.batch_detail, name="batch"),
    path(
        "annotation/batches/<uuid:batch_id>/progress/",
        annotation.batch_progress,
        name="batch_progress",
    ),
    path("reviews/", reviews.queue, name="reviews"),
    path("reviews/<uuid:review_id>/", reviews.review, name="review"),
    path(
        "reviews/<uuid:review_id>/findings/<int:index>/",
        reviews.decide,
        name="review_decide",
    ),
    path(
        "reviews/<uuid:review_id>/sign-off/", reviews.sign_off, name="review_sign_off"
    ),
]
