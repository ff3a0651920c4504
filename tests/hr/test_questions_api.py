"""POST /api/v1/hr/questions: JSON and streamed answers, conversations with
stable pseudonyms, and no personal detail reaching the engine."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from appliance.accounts.roles import Role
from appliance.hr.models import Turn
from tests.conftest import use_engine
from tests.support.engine_proxy import EngineProxy

URL = "/api/v1/hr/questions"
LEAVE = (
    "# Leave\n\n## Caring for a family member\n\n"
    "Employees may take up to 12 weeks of family care leave to care for a "
    "spouse, child or parent with a serious health condition, including time "
    "for surgery and recovery.\n\n"
    "## Bereavement\n\nEmployees may take 5 days of bereavement leave when a "
    "close relative dies.\n"
)
# Names, a date, a phone number and an e-mail address that must stay here.
PERSONAL_QUESTION = (
    "My wife Maria Lopez has cancer surgery on March 3rd. Call me on "
    "415-555-0142 or maria.lopez@example.com. How much leave can I take to "
    "care for her?"
)
PERSONAL = ["Maria Lopez", "Maria", "Lopez", "415-555-0142", "maria.lopez@example.com"]


@pytest.fixture
def leave_policy(add_policy):
    return add_policy(LEAVE, title="Leave")


@pytest.fixture
def recording_engine(engine, settings):
    original = dict(settings.ENGINE_DEFAULT)
    with EngineProxy(engine.url) as proxy:
        use_engine(proxy.url)
        yield proxy
    use_engine(original["url"], original["model"], original["kind"])


def read_events(response) -> list[tuple[str, dict[str, Any]]]:
    raw = b"".join(response.streaming_content).decode()
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_json_answer_cites_policy(leave_policy, make_user, api_client_for, engine_url):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(
        URL, {"question": "How many days of bereavement leave do I get?"}, "json"
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["refused"] is False
    citation = answer["citations"][0]
    assert citation["number"] == 1
    assert citation["title"] == "Leave"
    assert citation["version"] == "1"
    assert citation["section"] == "Leave > Bereavement"
    assert "5 days of bereavement leave" in citation["quote"]
    assert citation["quote"] in answer["answer"]


def test_stream_sends_tokens_then_answer(
    leave_policy, make_user, api_client_for, engine_url
):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(
        URL,
        {"question": "How many days of bereavement leave do I get?"},
        "json",
        HTTP_ACCEPT="text/event-stream",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    events = read_events(response)
    names = [name for name, _ in events]
    assert names[0] == "conversation"
    assert names[-2:] == ["answer", "done"]
    tokens = [data["text"] for name, data in events if name == "token"]
    assert len(tokens) > 3
    answer = events[-2][1]
    assert "".join(tokens).strip() == answer["answer"].strip()
    assert answer["citations"][0]["section"] == "Leave > Bereavement"


def test_stream_query_parameter(leave_policy, make_user, api_client_for, engine_url):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(
        URL + "?stream=1", {"question": "Can I get a company car?"}, "json"
    )
    events = read_events(response)
    answer = dict(events)["answer"]
    assert answer["refused"] is True
    assert answer["citations"] == []
    assert answer["contact"]
    assert answer["contact"] in "".join(
        data["text"] for name, data in events if name == "token"
    )


def test_no_personal_detail_reaches_engine(
    leave_policy, make_user, api_client_for, recording_engine
):
    user = make_user(Role.STAFF)
    client = api_client_for(user)
    first = client.post(URL, {"question": PERSONAL_QUESTION}, "json")
    assert first.status_code == 200, first.content
    assert first.json()["refused"] is False
    conversation = first.json()["conversation"]
    follow_up = client.post(
        URL,
        {
            "question": "And can Maria Lopez's mother take bereavement leave?",
            "conversation": conversation,
        },
        "json",
    )
    assert follow_up.status_code == 200, follow_up.content

    bodies = [raw.decode() for raw in recording_engine.requests]
    assert len(bodies) == 2
    for body in bodies:
        for detail in PERSONAL:
            assert detail.lower() not in body.lower()
    # The follow-up shows the model the same pseudonym for the same person.
    first_tokens = set(re.findall(r"<PERSON_\d+>", bodies[0]))
    assert first_tokens
    assert first_tokens <= set(re.findall(r"<PERSON_\d+>", bodies[1]))
    # The earlier turn is repeated to the model, redacted.
    assert "Conversation so far" in bodies[1]


def test_answer_is_reidentified_for_asker_only(
    leave_policy, make_user, api_client_for, engine_url
):
    owner = make_user(Role.STAFF)
    response = api_client_for(owner).post(URL, {"question": PERSONAL_QUESTION}, "json")
    turn = Turn.objects.get(id=response.json()["turn"])
    stored = bytes(turn.sealed)
    for detail in PERSONAL:
        assert detail.encode() not in stored

    other = make_user(Role.STAFF)
    reply = api_client_for(other).post(
        URL,
        {"question": "And for my son?", "conversation": str(turn.conversation_id)},
        "json",
    )
    assert reply.status_code == 404


def test_question_is_validated(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    assert client.post(URL, {}, "json").status_code == 400
    assert client.post(URL, {"question": "x" * 2001}, "json").status_code == 400
    response = client.post(
        URL, {"question": "hi", "conversation": "not-a-uuid"}, "json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_auditor_may_not_ask(make_user, api_client_for):
    client = api_client_for(make_user(Role.AUDITOR))
    response = client.post(URL, {"question": "How much leave?"}, "json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_stream_error_before_start_is_an_event(make_user, api_client_for):
    client = api_client_for(make_user(Role.AUDITOR))
    response = client.post(
        URL, {"question": "x"}, "json", HTTP_ACCEPT="text/event-stream"
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert body.startswith("event: error\n")
    assert json.loads(body.split("data: ", 1)[1])["code"] == "permission_denied"
