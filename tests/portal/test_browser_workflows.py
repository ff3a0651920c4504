"""Three staff-portal workflows in a real browser: a reviewer deciding and
signing off a check, an approver approving an escalation that its requester
may not approve, and a file annotation batch followed to the end. Debian's
headless Chromium is driven by Playwright against the live test server, and
each test's last page is kept as a screenshot under var/test/artifacts/portal/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from appliance.accounts.models import User
from appliance.accounts.roles import Role
from appliance.accounts.services import assign_role
from appliance.annotation.models import Batch
from appliance.compliance.models import Review, ReviewState
from appliance.compliance.reviews import record_of
from appliance.compliance.services import process_job
from appliance.escalation import sealing
from appliance.escalation.models import Approval, State
from appliance.escalation.services import body_of
from appliance.jobs import execution
from appliance.jobs.models import Job
from tests.api.test_compliance_checks import tweet_with_author
from tests.portal.conftest import PASSWORD
from tests.portal.test_browser import page, sign_in, snapshot
from tests.portal.test_escalations import requested
from tests.support import documents

__all__ = ["page"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_reviewer_signs_off_review(live_server, person, page, engine_url):
    requester = person("tess-staff")
    reviewer = person("uma-reviewer", Role.REVIEWER)
    # The check runs in this process with the real model, as in the portal's
    # review tests. This text ends in fail with several findings.
    job = checked_text(requester, tweet_with_author())
    assert job.state == "succeeded", job.reason

    review = Review.objects.get(job=job)
    assert review.reviewer == reviewer

    signed_in(page, live_server.url, "uma-reviewer")
    page.goto(f"{live_server.url}/reviews/")
    assert page.inner_text("h1") == "Review queue"
    page.click("#reviews a:has-text('Open review 1')")
    page.wait_for_url(f"{live_server.url}/reviews/{review.id}/")
    assert page.inner_text("h1") == "Review"
    total = page.locator("#findings > li").count()
    assert total >= 2

    override = "Quoted for context; the bank makes no such claim."
    decided: dict[int, str] = {}
    for number in range(1, total + 1):
        item = page.locator(f"#finding-{number}")
        action = item.locator("form.decide").get_attribute("action") or ""
        index = int(action.rstrip("/").rsplit("/", 1)[1])
        choice = "override" if number == 1 else "accept"
        reason = override if number == 1 else f"Finding {number} is correct."
        item.locator(f"input[name=decision][value={choice}]").check()
        item.locator(f"#reason-{number}").fill(reason)
        item.locator("button[type=submit]").click()
        page.wait_for_selector(f".messages:has-text('Finding {number}: decision')")
        assert "decision saved" in page.inner_text(".messages")
        assert page.locator(f"#finding-{number} .decision").inner_text() == choice
        decided[index] = choice

    # An accepted finding makes the final verdict a fail.
    page.select_option("#verdict", "fail")
    page.fill("#sign-off-reason", "Checked every finding.")
    page.click("#sign-off button[type=submit]")
    page.wait_for_url(f"{live_server.url}/reviews/")
    assert "Review signed off." in page.inner_text(".messages")
    assert "Nothing is waiting for your review." in page.inner_text("main")
    page.goto(f"{live_server.url}/reviews/{review.id}/")
    assert "state signed_off" in page.inner_text("p.state")
    assert page.locator("#sign-off").count() == 0
    snapshot(page, "review-signed-off")

    review.refresh_from_db()
    assert review.state == ReviewState.SIGNED_OFF
    assert review.final_verdict == "fail"
    record = record_of(review)
    assert record["reviewer"] == "uma-reviewer"
    assert record["requester"] == "tess-staff"
    assert record["sign_off_reason"] == "Checked every finding."
    assert {row["index"]: row["decision"] for row in record["decisions"]} == decided
    overridden = [row for row in record["decisions"] if row["decision"] == "override"]
    assert [row["reason"] for row in overridden] == [override]


def signed_in(page: Any, base: str, username: str) -> None:
    """Sign ``username`` in and wait for the home page, so that the next
    navigation does not interrupt the sign-in."""
    sign_in(page, base, username)
    page.wait_for_url(f"{base}/")


def checked_text(requester: User, text: str) -> Job:
    """Submit ``text`` through the portal's form as ``requester`` and run the
    job here, as the portal's review tests do."""
    client = Client()
    client.force_login(requester)
    response = client.post(
        "/compliance/new/", {"text": text, "rulebook": "financial-communications"}
    )
    assert response.status_code == 302, response.content
    job = Job.objects.get(owner=requester)
    execution.execute(str(job.id), process_job)
    return Job.objects.get(id=job.id)


def test_approver_approves_escalation(live_server, people, provider, page, monkeypatch):
    # The last approval publishes the send task. Record it here instead, so
    # that no message is left in the broker for another test's worker.
    published: list[str] = []
    monkeypatch.setattr("appliance.escalation.services.publish_send", published.append)
    for user in people.values():
        user.set_password(PASSWORD)
        user.save()
    # The requester is an approver too, so only the self-approval rule stops them.
    assign_role(people["requester"], Role.APPROVER)
    escalation = requested(people)
    assert escalation.state == State.PENDING
    body = body_of(escalation).decode()

    # The requester, signed in, neither finds it in the queue nor gets a form.
    own = page.context.browser.new_context()
    own_page = own.new_page()
    signed_in(own_page, live_server.url, "rita")
    own_page.goto(f"{live_server.url}/escalations/approvals/")
    assert own_page.inner_text("h1") == "Escalations waiting for approval"
    assert f"/escalations/{escalation.id}/" not in own_page.content()
    own_page.goto(f"{live_server.url}/escalations/{escalation.id}/")
    assert own_page.inner_text("#escalation-state") == State.PENDING
    assert own_page.inner_text("#escalation-body") == body
    assert own_page.locator("#decide").count() == 0
    snapshot(own_page, "escalation-own-request")
    own.close()

    signed_in(page, live_server.url, "alex")
    page.goto(f"{live_server.url}/escalations/approvals/")
    assert page.inner_text("h1") == "Escalations waiting for approval"
    page.click("#approvals a:has-text('Open request 1')")
    page.wait_for_url(f"{live_server.url}/escalations/{escalation.id}/")
    assert page.inner_text("#escalation-body") == body
    assert "Jane Roe" not in page.inner_text("main")
    assert escalation.body_sha256 in page.inner_text("main")
    page.check("#decide input[name=decision][value=approve]")
    page.fill("#id_reason", "Needs a second opinion.")
    page.click("#decide button[type=submit]")
    page.wait_for_url(f"{live_server.url}/escalations/approvals/")
    assert "Decision recorded." in page.inner_text(".messages")

    escalation.refresh_from_db()
    approval = escalation.approvals.get()
    assert approval.approver == people["approver"]
    assert approval.decision == Approval.Decision.APPROVE
    assert approval.body_sha256 == escalation.body_sha256
    reason = sealing.unseal(
        escalation.id,
        sealing.approval_field(approval.approver_id),
        approval.reason_sealed,
    )
    assert reason == b"Needs a second opinion."
    # The policy requires one approval for an internal request.
    assert escalation.approvals_required == 1
    assert escalation.state == State.APPROVED
    assert published == [str(escalation.id)]
    snapshot(page, "escalation-approved")


def test_annotation_batch_progress_finishes(
    live_server, person, page, engine_url, worker_factory, tmp_path
):
    worker_factory("portal", engine_url)
    person("vic-staff")
    memo = tmp_path / "memo.txt"
    memo.write_text(documents.sample("opm_cpm_2020-18_memo_dec24_closure.txt")[:2000])
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    signed_in(page, live_server.url, "vic-staff")
    page.goto(f"{live_server.url}/annotation/new/")
    page.set_input_files("#id_files", [str(memo), str(empty)])
    page.click("#annotation-form button[type=submit]")
    page.wait_for_url(re.compile(r"/annotation/batches/[0-9a-f-]+/$"))
    batch = Batch.objects.get(owner__username="vic-staff")
    assert page.url == f"{live_server.url}/annotation/batches/{batch.id}/"
    assert "memo.txt" in page.inner_text("#batch-items")
    assert "empty.txt" in page.inner_text("#batch-items")

    page.wait_for_selector("#batch-progress h2:has-text('Finished')", timeout=170_000)
    snapshot(page, "annotation-finished")
    bar = page.locator("#batch-bar")
    assert bar.get_attribute("max") == "2"
    assert bar.get_attribute("value") == "2"
    label = page.inner_text("label[for=batch-bar]")
    assert label == "1 of 2 done, 1 failed, 0 waiting"
    states = {item.job.state for item in batch.items.select_related("job")}
    assert states == {"succeeded", "failed"}
