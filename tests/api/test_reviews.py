"""The review endpoints: a needs_review check through a reviewer's
override and sign-off, with the real model, and who may reach what."""

from __future__ import annotations

import pytest

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.compliance.models import Review
from appliance.compliance.reviews import reproduce
from appliance.compliance.services import process_job
from appliance.jobs import execution
from appliance.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

# Only a weak pattern (deposit insurance mentioned, no claim made) matches, and
# the model does not confirm it, so the check ends in needs_review.
TEXT = "Ask our bankers how deposit insurance works for joint accounts."


def submit_and_run(client, text: str = TEXT) -> Job:
    response = client.post("/api/v1/compliance-checks", {"text": text}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    execution.execute(job_id, process_job)
    return Job.objects.get(id=job_id)


def test_needs_review_override_and_sign_off(make_user, api_client_for, engine_url):
    requester = make_user(Role.STAFF)
    reviewer = make_user(Role.REVIEWER)
    job = submit_and_run(api_client_for(requester))
    verdict = api_client_for(requester).get(f"/api/v1/jobs/{job.id}").json()["result"]
    assert verdict["verdict"] == "needs_review", verdict
    assert verdict["suggest_escalation"] is True

    client = api_client_for(reviewer)
    queue = client.get("/api/v1/reviews").json()["results"]
    assert [item["job_id"] for item in queue] == [str(job.id)]
    review_id = queue[0]["id"]

    detail = client.get(f"/api/v1/reviews/{review_id}").json()
    assert detail["text"] == TEXT
    finding = detail["findings"][0]
    assert finding["evidence"] == TEXT[finding["start"] : finding["end"]]
    assert finding["rulebook_version"] == verdict["rulebook"]["version"]

    url = f"/api/v1/reviews/{review_id}/findings/0"
    missing = client.post(url, {"decision": "override", "reason": " "}, format="json")
    assert missing.status_code == 400
    early = client.post(
        f"/api/v1/reviews/{review_id}/sign-off",
        {"verdict": "pass", "reason": "Nothing to see."},
        format="json",
    )
    assert early.json()["error"]["code"] == "undecided_findings"

    override_reason = "Explains coverage of deposits only; makes no claim."
    decided = client.post(
        url, {"decision": "override", "reason": override_reason}, format="json"
    )
    assert decided.status_code == 200, decided.content
    signed = client.post(
        f"/api/v1/reviews/{review_id}/sign-off",
        {"verdict": "pass", "reason": "Educational text, compliant."},
        format="json",
    )
    assert signed.status_code == 200, signed.content
    record = signed.json()

    assert record["reviewer"] == reviewer.username
    assert record["requester"] == requester.username
    assert record["final_verdict"] == "pass"
    assert record["machine_verdict"] == "needs_review"
    assert record["signed_off_at"] is not None
    assert record["sign_off_reason"] == "Educational text, compliant."
    assert record["decisions"][0]["decision"] == "override"
    assert record["decisions"][0]["reason"] == override_reason
    assert record["decisions"][0]["decided_by"] == reviewer.username
    assert record["rulebook"]["id"] == "financial-communications"
    assert record["rulebook"]["version"] == verdict["rulebook"]["version"]
    assert record["model"]["model"] == verdict["model"]["engine_model"]
    assert len(record["model"]["prompt_hash"]) == 64
    assert len(record["model"]["schema_hash"]) == 64

    again = client.post(
        f"/api/v1/reviews/{review_id}/sign-off",
        {"verdict": "fail", "reason": "Changed my mind."},
        format="json",
    )
    assert again.status_code == 409
    assert client.get("/api/v1/reviews").json()["results"] == []

    actions = set(
        AuditEvent.objects.filter(object_id=review_id).values_list("action", flat=True)
    )
    assert {
        "compliance.review_opened",
        "compliance.review_assigned",
        "compliance.finding_decided",
        "compliance.review_signed_off",
    } <= actions
    assert reproduce(Review.objects.get(pk=review_id)).matches


def test_requester_cannot_review_own_check(make_user, api_client_for, engine_url):
    requester = make_user(Role.REVIEWER)
    client = api_client_for(requester)
    job = submit_and_run(client, "Our advice is conflict-free.")
    review = Review.objects.get(job=job)
    assert review.reviewer is None

    assert client.get("/api/v1/reviews").json()["results"] == []
    assert client.get(f"/api/v1/reviews/{review.pk}").status_code == 404

    # Even if routing went wrong, the requester cannot decide or sign off.
    Review.objects.filter(pk=review.pk).update(reviewer=requester)
    Job.objects.filter(pk=job.pk).update(reviewer=requester)
    response = client.post(
        f"/api/v1/reviews/{review.pk}/findings/0",
        {"decision": "override", "reason": "Looks fine to me."},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "own_request"

    other = make_user(Role.REVIEWER)
    Review.objects.filter(pk=review.pk).update(reviewer=None)
    queue = api_client_for(other).get("/api/v1/reviews").json()["results"]
    assert [item["id"] for item in queue] == [str(review.pk)]


def test_staff_cannot_reach_review_endpoints(make_user, api_client_for, engine_url):
    owner = make_user(Role.STAFF)
    make_user(Role.REVIEWER)
    job = submit_and_run(api_client_for(owner), "Our advice is conflict-free.")
    review = Review.objects.get(job=job)
    client = api_client_for(owner)
    assert client.get("/api/v1/reviews").status_code == 403
    assert client.get(f"/api/v1/reviews/{review.pk}").status_code == 403
    decided = client.post(
        f"/api/v1/reviews/{review.pk}/findings/0",
        {"decision": "accept", "reason": "Yes."},
        format="json",
    )
    assert decided.status_code == 403
    signed = client.post(
        f"/api/v1/reviews/{review.pk}/sign-off",
        {"verdict": "fail", "reason": "Yes."},
        format="json",
    )
    assert signed.status_code == 403


def test_other_reviewer_sees_nothing(make_user, api_client_for, engine_url):
    owner = make_user(Role.STAFF)
    assigned = make_user(Role.REVIEWER)
    job = submit_and_run(api_client_for(owner), "Our advice is conflict-free.")
    review = Review.objects.get(job=job)
    assert review.reviewer == assigned
    outsider = api_client_for(make_user(Role.REVIEWER))
    assert outsider.get("/api/v1/reviews").json()["results"] == []
    assert outsider.get(f"/api/v1/reviews/{review.pk}").status_code == 404
    assert outsider.get(f"/api/v1/jobs/{job.id}").status_code == 404
