"""Answers use, per policy, the newest version in effect for an audience
that includes the asker."""

from __future__ import annotations

from datetime import date

import pytest

from appliance.accounts.models import Team
from appliance.accounts.roles import Role
from appliance.hr import answering, retrieval

REMOTE_V1 = (
    "# Remote work\n\n## Remote days\n\n"
    "Employees may work remotely up to 2 days per week with their manager's "
    "approval.\n"
)
REMOTE_V2 = (
    "# Remote work\n\n## Remote days\n\n"
    "Employees may work remotely up to 4 days per week with their manager's "
    "approval.\n"
)
ON_CALL = (
    "# On-call pay\n\n## Stipend\n\n"
    "Engineers who are on call receive an on-call stipend of $300 per week "
    "of on-call duty.\n"
)
QUESTION = "How many days per week may I work remotely?"


@pytest.fixture
def remote_policy(add_policy):
    old = add_policy(REMOTE_V1, title="Remote work", key="remote", version="2024")
    new = add_policy(
        REMOTE_V2,
        title="Remote work",
        key="remote",
        version="2027",
        effective_from=date(2027, 1, 1),
    )
    return old, new


def cited_versions(answer) -> set[str]:
    return {citation["version"] for citation in answer["citations"]}


def test_future_version_waits_for_its_date(remote_policy, make_user, engine_url):
    user = make_user(Role.STAFF)

    before = answering.ask(user, QUESTION, as_of=date(2026, 12, 31))
    assert not before["refused"]
    assert cited_versions(before) == {"2024"}
    assert "2 days per week" in before["citations"][0]["quote"]

    after = answering.ask(user, QUESTION, as_of=date(2027, 1, 1))
    assert not after["refused"]
    assert cited_versions(after) == {"2027"}
    assert "4 days per week" in after["citations"][0]["quote"]


def test_older_versions_stay_in_the_library(remote_policy, make_user):
    old, new = remote_policy
    user = make_user(Role.STAFF)
    assert retrieval.current_versions(user, date(2026, 6, 1)) == [old.id]
    assert retrieval.current_versions(user, date(2027, 6, 1)) == [new.id]
    old.refresh_from_db()
    assert old.chunks.exists()


def test_team_policy_is_never_cited_to_others(add_policy, make_user, engine_url):
    engineering = Team.objects.create(name="Engineering")
    sales = Team.objects.create(name="Sales")
    on_call = add_policy(ON_CALL, title="On-call pay", teams=(engineering,))
    add_policy(REMOTE_V1, title="Remote work")
    question = "How much is the on-call stipend per week?"

    engineer = make_user(Role.STAFF)
    engineer.team = engineering
    engineer.save()
    answer = answering.ask(engineer, question)
    assert not answer["refused"]
    assert answer["citations"][0]["policy"] == on_call.policy.key
    assert "$300" in answer["answer"]

    for outsider_team in (sales, None):
        outsider = make_user(Role.STAFF)
        outsider.team = outsider_team
        outsider.save()
        assert on_call.id not in retrieval.current_versions(outsider, date.today())
        other = answering.ask(outsider, question)
        policies = {citation["policy"] for citation in other["citations"]}
        assert on_call.policy.key not in policies
        assert "$300" not in other["answer"]


def test_other_team_version_ignored(add_policy, make_user):
    engineering = Team.objects.create(name="Engineering")
    general = add_policy(REMOTE_V1, title="Remote work", key="remote", version="1")
    add_policy(
        REMOTE_V2,
        title="Remote work",
        key="remote",
        version="1-eng",
        effective_from=date(2021, 1, 1),
        teams=(engineering,),
    )
    outsider = make_user(Role.STAFF)
    assert retrieval.current_versions(outsider, date.today()) == [general.id]
