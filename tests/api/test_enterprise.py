"""The enterprise API's key scopes, per-key rate limits and idempotency keys."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from appliance.accounts.models import Scope
from appliance.accounts.roles import Role
from appliance.accounts.services import issue_api_key
from appliance.api.idempotency import IdempotentMixin
from appliance.api.models import IdempotencyRecord
from appliance.api.scopes import SCOPE_BY_URL_NAME
from appliance.audit.models import AuditEvent
from appliance.jobs import execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = "/api/v1/compliance-checks"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def api_patterns(
    resolver: URLResolver | None = None, prefix: str = ""
) -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += api_patterns(entry, route)
        elif route.startswith(("api/", "v1/")):
            found.append((route, entry))
    return found


def test_every_api_url_has_a_scope_decision():
    names = {pattern.name for _, pattern in api_patterns()}
    assert names, "no API URL found"
    assert names - set(SCOPE_BY_URL_NAME) == set()


# POSTs that create nothing: asking again is a new question.
NOT_IDEMPOTENT = {
    "openai-chat-completions",
    "openai-embeddings",
    "hr-question-create",
}


def test_every_api_post_accepts_an_idempotency_key():
    for route, pattern in api_patterns():
        view = getattr(pattern.callback, "view_class", None)
        if pattern.name in NOT_IDEMPOTENT:
            continue
        if view is not None and hasattr(view, "post"):
            assert issubclass(view, IdempotentMixin), route


def test_key_outside_its_scope_is_refused_and_audited(make_user):
    user = make_user(Role.STAFF)
    issued = issue_api_key(user, "checks only", scopes=[Scope.COMPLIANCE])
    client = client_with(issued.plaintext)

    submitted = client.post(CHECKS, {"text": "Plain words."}, format="json")
    assert submitted.status_code == 202, submitted.content

    refused = client.get("/api/v1/jobs")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    event = AuditEvent.objects.get(action="auth.api_key_out_of_scope")
    assert event.object_id == issued.key.prefix

    # The schema is open to every key.
    assert client.get("/api/schema").status_code == 200


def test_unknown_scope_rejected(make_user):
    with pytest.raises(ValueError, match="Scopes must be"):
        issue_api_key(make_user(Role.STAFF), "bad", scopes=["everything"])
    with pytest.raises(ValueError, match="Scopes must be"):
        issue_api_key(make_user(Role.STAFF), "none", scopes=[])


def test_rate_limit_is_per_key(make_user):
    user = make_user(Role.STAFF)
    slow = issue_api_key(user, "slow", rate_limit_per_minute=3)
    limited = client_with(slow.plaintext)
    other = client_with(issue_api_key(user, "other").plaintext)

    statuses = [limited.get("/api/v1/jobs").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited.get("/api/v1/jobs")
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60

    assert other.get("/api/v1/jobs").status_code == 200


def test_idempotent_post_replays_the_first_response(make_user):
    user = make_user(Role.STAFF)
    client = client_with(issue_api_key(user, "idem").plaintext)
    idempotency_key = "order-42"

    first = client.post(
        CHECKS,
        {"text": "Plain words."},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
    )
    again = client.post(
        CHECKS,
        {"text": "Plain words."},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
    )

    assert first.status_code == 202
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Job.objects.filter(owner=user).count() == 1
    # The stored response is sealed, not readable in the table.
    stored = IdempotencyRecord.objects.get(user=user)
    assert stored.response_sealed is not None
    assert first.json()["id"].encode() not in bytes(stored.response_sealed)


def test_idempotency_key_with_another_request_is_rejected(make_user):
    client = client_with(issue_api_key(make_user(Role.STAFF), "idem").plaintext)
    idempotency_key = "order-43"
    assert (
        client.post(
            CHECKS,
            {"text": "One."},
            format="json",
            HTTP_IDEMPOTENCY_KEY=idempotency_key,
        ).status_code
        == 202
    )
    other = client.post(
        CHECKS, {"text": "Two."}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_idempotency_keys_are_per_user(make_user):
    first = client_with(issue_api_key(make_user(Role.STAFF), "a").plaintext)
    second = client_with(issue_api_key(make_user(Role.STAFF), "b").plaintext)
    idempotency_key = "shared-key"
    one = first.post(
        CHECKS, {"text": "Same."}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key
    )
    two = second.post(
        CHECKS, {"text": "Same."}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key
    )
    assert one.json()["id"] != two.json()["id"]
    assert "Idempotent-Replayed" not in two


def test_invalid_idempotency_key_rejected(make_user):
    client = client_with(issue_api_key(make_user(Role.STAFF), "idem").plaintext)
    response = client.post(
        CHECKS, {"text": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert Job.objects.count() == 0


def test_rejected_request_is_replayed_not_rerun(make_user):
    client = client_with(issue_api_key(make_user(Role.STAFF), "idem").plaintext)
    idempotency_key = "bad-body"
    first = client.post(CHECKS, {}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)
    again = client.post(CHECKS, {}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"


def test_browsable_docs_use_local_assets():
    response = APIClient().get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
    assert APIClient().get("/api/redoc").status_code == 200


def test_jobs_filter_by_state(make_user):
    user = make_user(Role.STAFF)
    client = client_with(issue_api_key(user, "filters").plaintext)
    queued = jobs.submit(user, Workload.COMPLIANCE_CHECK, text="a", enqueue=False)
    failed = jobs.submit(user, Workload.COMPLIANCE_CHECK, text="b", enqueue=False)
    lease = execution.claim(str(failed.id))
    assert lease is not None
    execution.fail(lease, "invalid_input")

    listed = client.get("/api/v1/jobs?state=failed").json()["results"]
    assert [job["id"] for job in listed] == [str(failed.id)]
    everything = client.get("/api/v1/jobs").json()["results"]
    assert {job["id"] for job in everything} == {str(queued.id), str(failed.id)}
    bad = client.get("/api/v1/jobs?state=nonsense")
    assert bad.status_code == 400


def test_jobs_filter_accepts_any_iso_offset(make_user):
    client = client_with(issue_api_key(make_user(Role.STAFF), "offsets").plaintext)
    # Python accepts offsets up to 23:59; PostgreSQL would reject them.
    response = client.get("/api/v1/jobs?created_after=2793-01-07T06:49:04%2B20:01")
    assert response.status_code == 200
    early = client.get("/api/v1/jobs?created_before=0001-01-01T00:00:00%2B14:00")
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "invalid_request"
