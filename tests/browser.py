"""Drive the app in a real Chromium: a live server, signing in, filling forms, axe-core checks."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

from trigger_workflow.samples import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("TRIGGER_WORKFLOW_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "screenshots"
# WCAG 2.2 A and AA, and the 2.0 and 2.1 rules they include.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Sign in as this officer through the sign-in form, with the test password."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    # Each role lands on its own page (tasks, audit, processes, officers' accounts).
    page.wait_for_url(re.compile(r".*/(tasks|audit/|processes|admin/officers)$"))


def check_page(page: Page, name: str) -> None:
    """Assert axe-core finds no WCAG 2.2 A/AA violation on the page; save a screenshot.

    One known exception: GOV.UK Frontend's conditional reveal puts ``aria-expanded`` on a radio
    (ARIA allows it on a checkbox, not a radio). GOV.UK keeps it on purpose, as screen readers
    announce it (alphagov/govuk-frontend#979, a documented known issue); only that attribute on
    such a radio is let through.
    """
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    # Evaluated through the browser's debugging protocol, which the page's Content-Security-Policy
    # does not govern: the pages are checked under the policy they are served with.
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    problems = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "where": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if not (v["id"] == "aria-allowed-attr" and all(_reveal_radio(n) for n in v["nodes"]))
    ]
    assert problems == [], f"{name} ({page.url}): {json.dumps(problems, indent=1)}"


def _reveal_radio(node: dict[str, Any]) -> bool:
    """Return whether an axe finding is only aria-expanded on a GOV.UK conditional-reveal radio."""
    html = str(node.get("html", ""))
    return (
        html.startswith('<input class="govuk-radios__input"')
        and "aria-controls=" in html
        and all("aria-expanded" in str(c.get("message", "")) for c in node.get("any", []))
    )


def fill_form(page: Page, fields: list[tuple[str, str]]) -> None:
    """Enter form fields as a person would: type, tick, choose; add rows when a list needs them."""
    for name, value in fields:
        field = page.locator(f'[name="{name}"]')
        if field.count() == 0:
            rows = re.match(r"(.+)\.\d+\.", name)
            assert rows is not None, f"no field {name} on {page.url}"
            page.locator(f'button[name="_add"][value="{rows.group(1)}"]').click()
            field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("e => e.type")
        if kind == "hidden":
            continue  # set by the page itself (e.g. the channel of the public form)
        if kind in ("radio", "checkbox"):
            page.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind.startswith("select"):
            field.select_option(value)
        else:
            field.fill(value)
