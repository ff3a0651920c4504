"""The staff portal in a real browser: Debian's headless Chromium driven by
Playwright against the live test server. Screenshots of each test's last
page are kept under var/test/artifacts/portal/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from appliance.accounts.models import User
from appliance.accounts.roles import Role
from appliance.jobs import services as jobs
from appliance.jobs.models import Job, Workload
from tests.api.test_compliance_checks import tweet_with_author
from tests.audit.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.portal.conftest import PASSWORD, totp_code

ARTIFACTS = (
    Path(__file__).resolve().parents[2] / "var" / "test" / "artifacts" / "portal"
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Open a fresh browser page. The test reads the database while
    Playwright's event loop runs in the same thread, which Django rejects
    unless DJANGO_ALLOW_ASYNC_UNSAFE is set."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        # Generous: the test machine is shared and often loaded.
        context.set_default_timeout(60_000)
        yield context.new_page()
        browser.close()


def snapshot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#sign-in button[type=submit]")


def tab_to(page: Any, selector: str, limit: int = 40) -> int:
    """Press Tab until ``selector`` has the focus; return the presses taken."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def test_keyboard_signs_in_and_reaches_submit(live_server, person, page):
    person("kim-staff")
    page.goto(f"{live_server.url}/login/")
    tab_to(page, "#id_username")
    page.keyboard.type("kim-staff")
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    assert page.inner_text("h1").startswith("Welcome")

    page.goto(f"{live_server.url}/compliance/new/")
    tab_to(page, "#compliance-form button[type=submit]")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    snapshot(page, "keyboard-submit-focused")
    assert outline != "none"
    assert page.locator("label[for=id_text]").inner_text() == "Text to check"
    assert page.locator("main").count() == 1
    assert page.locator("nav[aria-label=Main]").count() == 1


def test_lockout_after_failures(live_server, person, page, settings):
    person("lee-staff")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, live_server.url, "lee-staff", "a wrong password")
        assert "correct username and password" in page.inner_text("main")
    sign_in(page, live_server.url, "lee-staff", "a wrong password")
    assert page.inner_text("h1") == "Sign-in locked"
    sign_in(page, live_server.url, "lee-staff")
    snapshot(page, "locked-out")
    assert page.inner_text("h1") == "Sign-in locked"


def test_idle_session_ends(live_server, person, page, settings):
    settings.SESSION_IDLE_SECONDS = 2
    person("max-staff")
    sign_in(page, live_server.url, "max-staff")
    page.goto(f"{live_server.url}/jobs/")
    assert page.inner_text("h1") == "My jobs"
    time.sleep(3)
    page.goto(f"{live_server.url}/jobs/")
    snapshot(page, "idle-expired")
    assert page.inner_text("h1") == "Sign in"
    assert "idle" in page.inner_text(".messages")


def test_reviewer_needs_totp(live_server, person, page, settings):
    settings.REQUIRE_2FA = True
    person("noa-reviewer", Role.REVIEWER)
    sign_in(page, live_server.url, "noa-reviewer")
    assert page.inner_text("h1") == "Set up your authenticator app"
    assert page.locator(".qr svg").count() == 1
    device = TOTPDevice.objects.get(user__username="noa-reviewer")
    assert page.inner_text("#otpauth-uri").startswith("otpauth://totp/")
    page.fill("#id_token", totp_code(device))
    page.click("#enrol button[type=submit]")
    assert page.inner_text("h1").startswith("Welcome")

    # An enrolled reviewer signing in again is asked for a code.
    person("ola-reviewer", Role.REVIEWER)
    enrolled = TOTPDevice.objects.create(
        user=User.objects.get(username="ola-reviewer"), name="app", confirmed=True
    )
    other = page.context.new_page()
    other.context.clear_cookies()
    sign_in(other, live_server.url, "ola-reviewer")
    assert other.inner_text("h1") == "Enter your code"
    other.goto(f"{live_server.url}/jobs/")
    assert other.inner_text("h1") == "Enter your code"
    other.fill("#id_token", totp_code(enrolled))
    other.click("#verify button[type=submit]")
    snapshot(other, "totp-verified")
    assert other.inner_text("h1") == "My jobs"


def test_compliance_check_highlights_findings(
    live_server, person, page, engine_url, worker_factory
):
    worker_factory("portal", engine_url)
    person("pat-staff")
    stranger = person("quinn-staff")
    foreign = jobs.submit(
        stranger, Workload.COMPLIANCE_CHECK, text="Not yours.", enqueue=False
    )
    sign_in(page, live_server.url, "pat-staff")
    page.goto(f"{live_server.url}/compliance/new/")
    page.fill("#id_text", tweet_with_author())
    page.click("#compliance-form button[type=submit]")
    assert page.locator("#result").count() == 1

    page.wait_for_selector("#verdict", timeout=240_000)
    snapshot(page, "compliance-result")
    assert page.inner_text("#verdict") == "fail"
    marks = page.locator("#checked-text mark")
    assert marks.count() >= 1
    assert "FDIC" in " ".join(marks.all_inner_texts())
    assert page.locator("#findings li").count() >= 1
    link = marks.first.locator("sup a").first
    target = link.get_attribute("href")
    assert target is not None and page.locator(target).count() == 1

    job = Job.objects.get(owner__username="pat-staff")
    page.goto(f"{live_server.url}/jobs/")
    history = page.inner_text("#jobs")
    assert str(job.id) in history
    assert str(foreign.id) not in history


def test_hr_answer_streams_with_citations(
    live_server, person, page, add_policy, engine_url
):
    from tests.hr.test_questions_api import LEAVE

    add_policy(LEAVE, title="Leave")
    person("rae-staff")
    sign_in(page, live_server.url, "rae-staff")
    page.goto(f"{live_server.url}/hr/")
    page.fill("#hr-question", "How much leave can I take to care for my spouse?")
    page.click("#hr-form button[type=submit]")
    page.wait_for_selector("#hr-status:has-text('Answer complete.')", timeout=240_000)
    snapshot(page, "hr-answer")
    assert page.inner_text(".turn .answer").strip() != ""
    source = page.locator(".citations li").first
    assert "Leave" in source.inner_text()
    link = page.locator(".turn .answer a").first
    target = link.get_attribute("href")
    assert target is not None and page.locator(target).count() == 1
    link.click()
    assert page.evaluate("location.hash") == target
