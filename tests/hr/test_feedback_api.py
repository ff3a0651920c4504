"""Feedback on HR answers: the asker rates an answer, HR administrators
review the ratings."""

from __future__ import annotations

import pytest

from appliance.accounts.roles import Role
from appliance.hr import answering
from appliance.hr.models import Feedback

POLICY = "# Travel\n\n## Meals\n\nMeals are reimbursed up to $60 per day.\n"


@pytest.fixture
def answered(add_policy, make_user):
    """A refused answer (no model call needed) owned by a staff member."""
    add_policy(POLICY, title="Travel")
    owner = make_user(Role.STAFF)
    answer = answering.ask(owner, "Can I bring my dog to the office?")
    assert answer["refused"] is True
    return owner, answer["turn"]


def url(turn: str) -> str:
    return f"/api/v1/hr/answers/{turn}/feedback"


def test_owner_rates_answer(answered, api_client_for):
    owner, turn = answered
    client = api_client_for(owner)
    response = client.post(
        url(turn), {"rating": "wrong", "comment": "Ask Jane Roe instead."}, "json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["rating"] == "wrong"
    again = client.post(url(turn), {"rating": "helpful"}, "json")
    assert again.status_code == 201
    stored = Feedback.objects.get()
    assert stored.rating == "helpful"
    assert stored.comment_sealed is None


def test_comment_is_sealed(answered, api_client_for):
    owner, turn = answered
    api_client_for(owner).post(
        url(turn), {"rating": "wrong", "comment": "Ask Jane Roe instead."}, "json"
    )
    sealed = Feedback.objects.get().comment_sealed
    assert sealed is not None
    assert b"Jane Roe" not in bytes(sealed)


def test_others_cannot_rate(answered, make_user, api_client_for):
    _, turn = answered
    other = api_client_for(make_user(Role.STAFF))
    assert other.post(url(turn), {"rating": "wrong"}, "json").status_code == 404
    assert Feedback.objects.count() == 0


def test_rating_is_validated(answered, api_client_for):
    owner, turn = answered
    response = api_client_for(owner).post(url(turn), {"rating": "meh"}, "json")
    assert response.status_code == 400


def test_hr_admin_reviews_feedback(answered, make_user, api_client_for):
    owner, turn = answered
    api_client_for(owner).post(
        url(turn), {"rating": "wrong", "comment": "Wrong policy."}, "json"
    )
    reviewer = api_client_for(make_user(Role.HR_ADMIN))
    results = reviewer.get("/api/v1/hr/feedback?rating=wrong").json()["results"]
    assert len(results) == 1
    assert results[0]["answer"] == turn
    assert results[0]["comment"] == "Wrong policy."
    assert results[0]["refused"] is True
    assert "question" not in results[0]

    staff = api_client_for(make_user(Role.STAFF))
    assert staff.get("/api/v1/hr/feedback").status_code == 403
