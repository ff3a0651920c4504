"""The portal's pages through Django's test client: who may open what, the
compliance form's validation, and job history limited to one's own jobs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.jobs import payloads
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, State, Workload


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def submit(user, text: str = "Guaranteed returns of 20% a year.") -> Job:
    return jobs.submit(user, Workload.COMPLIANCE_CHECK, text=text, enqueue=False)


def test_form_rejects_empty_submission(make_user, client_for):
    client = client_for(make_user(Role.STAFF))
    response = client.post("/compliance/new/", {"rulebook": "financial-communications"})
    assert response.status_code == 200
    assert b"Paste a text or choose a file" in response.content
    assert Job.objects.count() == 0


def test_form_rejects_text_and_file(make_user, client_for):
    client = client_for(make_user(Role.STAFF))
    upload = SimpleUploadedFile("a.txt", b"some text", content_type="text/plain")
    response = client.post(
        "/compliance/new/",
        {"text": "x", "file": upload, "rulebook": "financial-communications"},
    )
    assert b"not both" in response.content
    assert Job.objects.count() == 0


def test_form_reports_unreadable_file(make_user, client_for):
    client = client_for(make_user(Role.STAFF))
    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.7 broken", content_type="text/plain")
    response = client.post(
        "/compliance/new/", {"file": upload, "rulebook": "financial-communications"}
    )
    assert response.status_code == 200
    assert b'class="errorlist"' in response.content
    assert Job.objects.count() == 0


def test_form_submits_uploaded_file(make_user, client_for, monkeypatch):
    monkeypatch.setattr("appliance.jobs.dispatch.enqueue", lambda job: None)
    user = make_user(Role.STAFF)
    upload = SimpleUploadedFile(
        "ad.txt", b"Guaranteed returns, no risk.", content_type="text/plain"
    )
    response = client_for(user).post(
        "/compliance/new/", {"file": upload, "rulebook": "financial-communications"}
    )
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.id}/"
    assert job.owner == user
    submitted = payloads.read_input(job)
    assert submitted["text"].strip() == "Guaranteed returns, no risk."
    assert submitted["source"]["filename"] == "ad.txt"


def test_auditor_cannot_submit(make_user, client_for):
    response = client_for(make_user(Role.AUDITOR)).get("/compliance/new/")
    assert response.status_code == 403
    assert AuditEvent.objects.using("audit").filter(action="access.denied").exists()


def test_history_lists_only_own_jobs(make_user, client_for):
    mine = make_user(Role.STAFF)
    other = make_user(Role.STAFF)
    own_job = submit(mine)
    other_job = submit(other)
    page = client_for(mine).get("/jobs/").content.decode()
    assert str(own_job.id) in page
    assert str(other_job.id) not in page


def test_history_paginates(make_user, client_for):
    user = make_user(Role.STAFF)
    for _ in range(21):
        submit(user)
    client = client_for(user)
    first = client.get("/jobs/").content.decode()
    assert "Page 1 of 2" in first
    assert first.count("/jobs/") >= 20
    second = client.get("/jobs/?page=2").content.decode()
    assert "Page 2 of 2" in second


def test_other_persons_job_is_not_found(make_user, client_for):
    job = submit(make_user(Role.STAFF))
    intruder = client_for(make_user(Role.STAFF))
    assert intruder.get(f"/jobs/{job.id}/").status_code == 404
    assert intruder.get(f"/jobs/{job.id}/result/").status_code == 404
    denied = AuditEvent.objects.using("audit").filter(action="job.access_denied")
    assert denied.count() == 2


def test_running_job_page_polls(make_user, client_for):
    user = make_user(Role.STAFF)
    job = submit(user)
    page = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert f'hx-get="/jobs/{job.id}/result/"' in page
    assert 'hx-trigger="every 2s"' in page


def test_finished_job_highlights_findings(make_user, client_for):
    user = make_user(Role.STAFF)
    text = "Call now: guaranteed returns for everyone."
    job = submit(user, text)
    start = text.index("guaranteed returns")
    result = {
        "verdict": "fail",
        "rulebook": {"id": "financial-communications", "version": "1"},
        "findings": [
            {
                "rule_id": "r1",
                "title": "Promise of returns",
                "severity": "high",
                "status": "fail",
                "source": "pattern",
                "start": start,
                "end": start + len("guaranteed returns"),
                "evidence": "guaranteed returns",
                "explanation": "A pattern for this rule matched.",
                "confidence": None,
            }
        ],
    }
    job.result_sealed = payloads.seal(job.id, payloads.RESULT, result)
    job.state = State.SUCCEEDED
    job.save()

    fragment = client_for(user).get(f"/jobs/{job.id}/result/").content.decode()
    assert "hx-trigger" not in fragment
    assert 'id="verdict">fail<' in fragment
    assert '<mark class="sev-high" data-findings="1">guaranteed returns<sup>' in (
        fragment
    )
    assert "Call now: " in fragment


def test_failed_job_shows_reason(make_user, client_for):
    user = make_user(Role.STAFF)
    job = submit(user)
    job.state = State.FAILED
    job.reason = "engine_unavailable"
    job.save()
    page = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert 'id="job-reason">engine_unavailable<' in page
    assert "did not answer within the retry window" in page


def test_home_links_by_role(make_user, client_for):
    page = client_for(make_user(Role.AUDITOR)).get("/").content.decode()
    assert 'href="/audit/"' in page
    assert 'href="/compliance/new/"' not in page
    staff = client_for(make_user(Role.STAFF)).get("/").content.decode()
    assert 'href="/compliance/new/"' in staff
    assert 'href="/audit/"' not in staff


def test_static_files_found():
    from django.contrib.staticfiles import finders

    assert finders.find("portal/htmx.min.js")
    assert finders.find("portal/portal.css")
