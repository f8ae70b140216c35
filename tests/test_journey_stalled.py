"""R14 in a real Chromium: Health's only officer is disabled after an information request went to
Health; the coordinator sees the stalled request in the inbox and on the case page, and the
reassign page says who can act. axe-core on every page visited.

Today is pinned to Monday 23 November 2026 (the clock still moves, from 09:00).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, live_server, sign_in
from tests.scenario import CaseDriver
from trigger_workflow.engine import calendar

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=calendar.UK_TIME)
HEALTH = "Health (Integrated Care Board)"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context with the real Content-Security-Policy; console errors fail."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert errors == []


def test_r14_coordinator_sees_the_request_nobody_at_health_can_answer(
    app: Flask, sessions: sessionmaker[Session], page: Page
) -> None:
    """R14: requests go to Police and Health; the administrator disables Health's only officer;
    the coordinator's inbox and case page say nobody at Health can answer, and the reassign page
    says who can act instead of offering nobody."""
    with time_machine.travel(MONDAY, tick=True):
        case = CaseDriver(app.test_client(), sessions)
        case.apply()
        case.act_as("carol")
        case.advance_to("Choose agencies")
        case.complete("Choose agencies", {"agencies": ["police", "health"]})
        health_task = case.task_id("Answer information request", "health")
        with live_server(app) as base_url:
            sign_in(page, base_url, "adam")
            page.goto(f"{base_url}/admin/officers/heath")
            check_page(page, "stalled-admin-officer")
            page.get_by_role("button", name="Disable officer").click()
            expect(page.locator("h1")).to_contain_text("heath (disabled)")
            check_page(page, "stalled-admin-disabled")
            page.get_by_role("button", name="Sign out").click()

            sign_in(page, base_url, "carol")
            banner = page.locator("#stalled-requests")
            expect(banner).to_contain_text(case.reference)
            expect(banner).to_contain_text(f"Answer information request ({HEALTH})")
            check_page(page, "stalled-inbox")

            banner.get_by_role("link", name=case.reference).click()
            stalled = page.locator("#stalled-requests")
            expect(stalled).to_contain_text(
                f"Nobody at {HEALTH} can answer the information request: the agency has no "
                "active officer."
            )
            expect(stalled).not_to_contain_text("Police")
            check_page(page, "stalled-case")

            stalled.get_by_role("link", name="Who can act").click()
            page.wait_for_url(f"{base_url}/tasks/{health_task}/reassign")
            expect(page.locator("#nobody-can-act")).to_contain_text(
                f"{HEALTH} has no active officer"
            )
            expect(page.locator("input[name=to_username]")).to_have_count(0)
            check_page(page, "stalled-reassign")
