"""Browser fixtures for every test that drives Chromium: one browser a test process, the app served
over real HTTP, and a fresh page that fails its test on any script error or failed load."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import CHROMIUM, live_server

BROWSER_FIXTURES = frozenset({"browser", "base_url", "page"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that serves the app over HTTP or drives Chromium `browser`.

    CI runs them once, on SQLite (the README's command): they check pages in a real browser,
    and what they read and write goes through the same services the rest of the suite runs on
    both databases (`-m "not browser"` on PostgreSQL, see .ci/run).
    """
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium once per test process (never a downloaded browser).

    Tests share nothing through it: each opens its own context (cookies, storage, cache).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """Serve the test app over real HTTP on a free loopback port."""
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Open a fresh browser context (no cookies, the real Content-Security-Policy) and one page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A page answered 4xx on purpose (a form with errors, a task refused) logs "Failed to load
    # resource"; what the page itself loads (styles, scripts, fonts) must never fail.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    # A load cut short by the next navigation (net::ERR_ABORTED) is not a failure of the page.
    page.on(
        "requestfailed",
        lambda request: (
            errors.append(f"failed: {request.url} {request.failure}")
            if "ERR_ABORTED" not in (request.failure or "")
            else None
        ),
    )
    yield page
    context.close()
    # Scripts ran, and nothing the pages load was blocked (the Content-Security-Policy included).
    assert errors == []
