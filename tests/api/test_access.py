"""Who may do what through the API, and the one error shape for refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appliance.accounts.models import ApiKey
from appliance.accounts.roles import Role
from appliance.accounts.services import issue_api_key, revoke_api_key
from appliance.audit.models import AuditEvent
from appliance.audit.services import read_fields
from appliance.jobs import execution
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = "/api/v1/compliance-checks"


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response["X-Request-ID"]


def finished_job(owner, verdict: str = "pass") -> Job:
    job = jobs.submit(
        owner, Workload.COMPLIANCE_CHECK, text="Plain text.", enqueue=False
    )
    lease = execution.claim(str(job.id))
    assert lease is not None
    execution.succeed(lease, {"verdict": verdict, "findings": []})
    return Job.objects.get(id=job.id)


def test_anonymous_request_refused():
    response = APIClient().post(CHECKS, {"text": "Hello"}, format="json")
    assert_error(response, 401, "not_authenticated")
    assert AuditEvent.objects.filter(action="auth.denied", outcome="denied").exists()


def test_unknown_key_refused_and_audited(roles):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer apk_000000000000_not-a-key")
    assert_error(client.get("/api/v1/jobs"), 401, "authentication_failed")
    assert AuditEvent.objects.filter(action="auth.api_key_rejected").count() == 1


def test_revoked_key_refused(make_user):
    user = make_user(Role.STAFF)
    issued = issue_api_key(user, "to revoke")
    revoke_api_key(issued.key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert_error(client.get("/api/v1/jobs"), 401, "authentication_failed")


def test_expired_key_refused(make_user):
    user = make_user(Role.STAFF)
    issued = issue_api_key(
        user, "expired", expires_at=timezone.now() - timedelta(seconds=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert_error(client.get("/api/v1/jobs"), 401, "authentication_failed")


def test_key_stored_as_digest_only(make_user):
    user = make_user(Role.STAFF)
    issued = issue_api_key(user, "digest")
    secret = issued.plaintext.split("_", 2)[2]
    row = ApiKey.objects.filter(pk=issued.key.pk).values().get()
    assert all(secret not in str(value) for value in row.values())


def test_key_in_x_api_key_header_accepted(make_user):
    user = make_user(Role.STAFF)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=issue_api_key(user, "header").plaintext)
    assert client.get("/api/v1/jobs").status_code == 200


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_roles_without_submit_refused(make_user, api_client_for, role):
    client = api_client_for(make_user(role))
    response = client.post(CHECKS, {"text": "Guaranteed 10%."}, format="json")
    assert_error(response, 403, "permission_denied")
    assert AuditEvent.objects.filter(action="access.denied").count() == 1
    assert Job.objects.count() == 0


def test_other_users_job_not_found(make_user, api_client_for):
    owner = make_user(Role.STAFF)
    job = finished_job(owner)
    for intruder_role in (Role.STAFF, Role.REVIEWER, Role.AUDITOR, Role.ADMIN):
        intruder = make_user(intruder_role)
        response = api_client_for(intruder).get(f"/api/v1/jobs/{job.id}")
        assert_error(response, 404, "not_found")
    denials = AuditEvent.objects.filter(
        action="job.access_denied", object_id=str(job.id)
    )
    assert denials.count() == 4


def test_owner_reads_own_result(make_user, api_client_for):
    owner = make_user(Role.STAFF)
    job = finished_job(owner, verdict="fail")
    body = api_client_for(owner).get(f"/api/v1/jobs/{job.id}").json()
    assert body["state"] == "succeeded"
    assert body["result"]["verdict"] == "fail"


def test_routed_reviewer_reads_result(make_user, api_client_for):
    owner = make_user(Role.STAFF)
    reviewer = make_user(Role.REVIEWER)
    job = finished_job(owner, verdict="needs_review")
    Job.objects.filter(id=job.id).update(reviewer=reviewer)
    body = api_client_for(reviewer).get(f"/api/v1/jobs/{job.id}").json()
    assert body["result"]["verdict"] == "needs_review"


def test_job_list_shows_own_jobs_only(make_user, api_client_for):
    owner = make_user(Role.STAFF)
    other = make_user(Role.STAFF)
    mine = finished_job(owner)
    finished_job(other)
    body = api_client_for(owner).get("/api/v1/jobs").json()
    assert [item["id"] for item in body["results"]] == [str(mine.id)]


def test_malformed_json_rejected(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(CHECKS, data="{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize(
    "payload",
    [{}, {"text": "   "}, {"text": "Hi", "rulebook": "no-such-rulebook"}],
    ids=["empty", "blank-text", "unknown-rulebook"],
)
def test_invalid_submission_rejected(make_user, api_client_for, payload):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(CHECKS, payload, format="json")
    assert_error(response, 400, "invalid_request")
    assert response.json()["error"]["fields"]
    assert Job.objects.count() == 0


def test_text_and_file_together_rejected(make_user, api_client_for, tmp_path):
    client = api_client_for(make_user(Role.STAFF))
    sample = tmp_path / "note.txt"
    sample.write_text("Guaranteed returns.")
    with sample.open("rb") as handle:
        response = client.post(CHECKS, {"text": "Also text", "file": handle})
    assert_error(response, 400, "invalid_request")


def test_corrupt_pdf_upload_rejected(make_user, api_client_for, tmp_path):
    client = api_client_for(make_user(Role.STAFF))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    with broken.open("rb") as handle:
        response = client.post(CHECKS, {"file": handle})
    assert_error(response, 400, "corrupt_file")
    assert Job.objects.count() == 0


def test_request_id_echoed(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    response = client.get("/api/v1/jobs", HTTP_X_REQUEST_ID="ticket-12345678")
    assert response["X-Request-ID"] == "ticket-12345678"


def test_index_lists_entry_points():
    links = APIClient().get("/api/").json()["links"]
    assert links["compliance_checks"] == "/api/v1/compliance-checks"
    assert APIClient().get(links["openapi_schema"]).status_code == 200


def test_health_reports_database():
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "audit": "ok"},
    }


def test_forwarded_address_ignored_from_untrusted_peer(roles):
    APIClient().get("/api/v1/jobs", HTTP_X_FORWARDED_FOR="203.0.113.9")
    event = AuditEvent.objects.get(action="auth.denied")
    assert read_fields(event)["client_ip"] == "127.0.0.1"


def test_forwarded_address_used_behind_trusted_proxy(roles, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    APIClient().get(
        "/api/v1/jobs", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9, 127.0.0.1"
    )
    event = AuditEvent.objects.get(action="auth.denied")
    assert read_fields(event)["client_ip"] == "203.0.113.9"


def test_forged_forwarded_value_ignored(roles, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    APIClient().get("/api/v1/jobs", HTTP_X_FORWARDED_FOR="not-an-address")
    event = AuditEvent.objects.get(action="auth.denied")
    assert read_fields(event)["client_ip"] == "127.0.0.1"


def test_django_error_log_carries_request_id(make_user, api_client_for, caplog):
    client = api_client_for(make_user(Role.STAFF))
    response = client.get("/api/v1/nothing", HTTP_X_REQUEST_ID="trace-abcdef12")
    assert response.status_code == 404
    lines = [r for r in caplog.records if r.name == "django.request"]
    assert lines
    assert all("request_id=trace-abcdef12" in r.context for r in lines)


def test_deeply_nested_json_rejected(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(CHECKS, data=body, content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_oversized_body_rejected(make_user, api_client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(CHECKS, {"text": "x" * 4096, "pad": "y" * 4096})
    assert_error(response, 413, "request_too_large")


def test_too_many_fields_rejected(make_user, api_client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(CHECKS, {f"f{i}": "x" for i in range(50)})
    assert_error(response, 400, "too_many_fields")


def test_invalid_rulebook_not_echoed(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(
        CHECKS, {"text": "Hi", "rulebook": "ZQXMARKER"}, format="json"
    )
    assert_error(response, 400, "invalid_request")
    assert "ZQXMARKER" not in response.content.decode()


@pytest.mark.parametrize("wait", ["abc", "nan", "-5", "61"])
def test_invalid_wait_rejected_before_submit(make_user, api_client_for, wait):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(f"{CHECKS}?wait={wait}", {"text": "Hi"}, format="json")
    assert_error(response, 400, "invalid_request")
    assert "wait" in response.json()["error"]["fields"]
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/jobs/not-a-uuid", "/api/v1/nope", "/api/nothing-here"]
)
def test_unknown_api_path_uses_error_shape(make_user, api_client_for, path):
    response = api_client_for(make_user(Role.STAFF)).get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_html_rendering_not_offered(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    response = client.get("/api/v1/jobs", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"


def test_api_responses_not_cached(make_user, api_client_for):
    owner = make_user(Role.STAFF)
    job = finished_job(owner)
    response = api_client_for(owner).get(f"/api/v1/jobs/{job.id}")
    assert "no-store" in response["Cache-Control"]


def test_csrf_failure_named_as_such(make_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user(Role.STAFF))
    response = client.post(CHECKS, {"text": "Hi"}, format="json")
    assert_error(response, 403, "csrf_failed")
    assert AuditEvent.objects.filter(action="auth.csrf_failed").count() == 1
