"""The auditors' console in a real browser: Debian's headless Chromium driven
by Playwright against the live test server."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from appliance.accounts.roles import Role
from appliance.accounts.services import create_user
from appliance.audit.sequencer import sequence_now
from appliance.audit.services import record

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long browser test password"


def standalone(bundle: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "verify_audit_bundle.py"),
            str(bundle),
            "--public-key",
            settings.AUDIT_PUBLIC_KEY_FILES[0],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/audit/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_auditor_filters_exports_and_the_bundle_verifies(live_server, roles, tmp_path):
    from playwright.sync_api import sync_playwright

    create_user("browser-auditor", roles=[Role.AUDITOR], password=PASSWORD)
    create_user("browser-staff", roles=[Role.STAFF], password=PASSWORD)
    for i in range(6):
        record("job.submitted", object_type="job", object_id=f"browser-{i}")
    record("model.called", object_type="compliance", object_id="browser-3")
    size = sequence_now()
    now = timezone.now()
    start = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    end = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    bundle = tmp_path / "bundle.json"
    base = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        sign_in(page, base, "browser-auditor")
        assert "Chain status: OK" in page.inner_text("#chain-status")
        checkpoint = page.inner_text("#last-checkpoint")
        assert f"Last checkpoint: {size} entries" in checkpoint

        page.fill("#filters input[name=action]", "model.called")
        page.click("#filters button[type=submit]")
        actions = page.locator("#events td.action").all_inner_texts()
        assert actions == ["model.called"]

        page.click("text=Export")
        page.fill("#export input[name=start]", start)
        page.fill("#export input[name=end]", end)
        with page.expect_download() as download:
            page.click("#export button[type=submit]")
        download.value.save_as(bundle)

        staff = browser.new_page()
        sign_in(staff, base, "browser-staff")
        staff_heading = staff.inner_text("h1")
        staff_response = staff.goto(f"{base}/audit/")
        browser.close()

    assert staff_heading == "Not allowed"
    assert staff_response is not None and staff_response.status == 403

    accepted = standalone(bundle)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert accepted.stdout.startswith(f"valid: entries 0 to {size - 1}")

    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bundle.write_bytes(bytes(data))
    rejected = standalone(bundle)
    assert rejected.returncode == 1
    assert rejected.stdout.startswith("INVALID")
