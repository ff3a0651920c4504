"""The reviewer's queue in the portal: a needs_review check from the real
model, decided finding by finding and signed off through the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from appliance.accounts.roles import Role
from appliance.compliance.models import Review, ReviewState
from appliance.compliance.services import process_job
from appliance.jobs import execution
from appliance.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

# Only a weak pattern matches (deposit insurance mentioned, no claim made),
# and the model does not confirm it, so the check ends in needs_review.
TEXT = "Ask our bankers how deposit insurance works for joint accounts."


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def checked(requester) -> Job:
    response = signed_in(requester).post(
        "/compliance/new/", {"text": TEXT, "rulebook": "financial-communications"}
    )
    assert response.status_code == 302, response.content
    job = Job.objects.get(owner=requester)
    execution.execute(str(job.id), process_job)
    return Job.objects.get(id=job.id)


def test_reviewer_decides_and_signs_off(make_user, engine_url):
    requester = make_user(Role.STAFF)
    reviewer = make_user(Role.REVIEWER)
    job = checked(requester)
    assert job.state == "succeeded", job.reason

    client = signed_in(reviewer)
    queue = client.get("/reviews/").content.decode()
    review = Review.objects.get(job=job)
    assert f"/reviews/{review.id}/" in queue

    page = client.get(f"/reviews/{review.id}/").content.decode()
    assert "<mark" in page
    assert 'name="decision" value="override"' in page

    early = client.post(
        f"/reviews/{review.id}/sign-off/", {"verdict": "pass", "reason": "Fine."}
    )
    assert early.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN

    decided = client.post(
        f"/reviews/{review.id}/findings/0/",
        {"decision": "override", "reason": "Explains coverage; makes no claim."},
        follow=True,
    )
    assert "decision saved" in decided.content.decode()
    signed = client.post(
        f"/reviews/{review.id}/sign-off/",
        {"verdict": "pass", "reason": "Educational text, compliant."},
    )
    assert signed["Location"] == "/reviews/"
    review.refresh_from_db()
    assert review.state == ReviewState.SIGNED_OFF
    assert review.final_verdict == "pass"


def test_review_pages_check_role_and_routing(make_user, engine_url):
    requester = make_user(Role.STAFF)
    reviewer = make_user(Role.REVIEWER)
    job = checked(requester)
    signed_in(reviewer).get("/reviews/")
    review = Review.objects.get(job=job)
    assert review.reviewer == reviewer

    assert signed_in(requester).get("/reviews/").status_code == 403
    other = signed_in(make_user(Role.REVIEWER))
    assert other.get(f"/reviews/{review.id}/").status_code == 404
    refused = other.post(
        f"/reviews/{review.id}/findings/0/",
        {"decision": "accept", "reason": "Not mine to decide."},
    )
    assert refused.status_code == 404
    assert not review.decisions.exists()
