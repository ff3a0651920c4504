"""The admin console's usage page in a real browser (Debian's headless
Chromium through Playwright); the screenshot is kept under
var/test/artifacts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from appliance.accounts.roles import Role
from appliance.accounts.services import create_user
from appliance.inference.models import ModelCall
from tests.audit.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test" / "artifacts"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_admin_views_usage_and_cost(live_server, roles):
    from playwright.sync_api import sync_playwright

    create_user("browser-admin", roles=[Role.ADMIN], password=PASSWORD)
    for workload, tokens in (("compliance_check", 900), ("chat", 300)):
        ModelCall.objects.create(
            workload=workload,
            subject_id=str(uuid.uuid4()),
            engine="default",
            kind="llamacpp",
            model="smollm2",
            outcome=ModelCall.Outcome.OK,
            prompt_tokens=tokens,
            completion_tokens=tokens // 3,
            latency_ms=800,
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{live_server.url}/admin/")
        page.fill("input[name=username]", "browser-admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.click("text=Usage and cost")
        page.click("text=7 days")
        rows = page.locator("#usage-table tbody tr").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "admin-usage.png"), full_page=True)
        browser.close()

    assert len(rows) == 2
    assert any(row.startswith("chat") for row in rows)
    assert any(row.startswith("compliance_check") for row in rows)
