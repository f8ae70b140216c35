"""A watched Chromium page for the journey tests: script errors, blocked loads, reflow at 320 px."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page

from tests.browser import check_page

NORMAL = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 800}  # WCAG 1.4.10: 1280 px at 400 % zoom


@contextmanager
def watched_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """Open a fresh context (the real Content-Security-Policy) and collect every console error,
    script error and failed load of the page's own files."""
    context = browser.new_context(viewport=NORMAL)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    # A page answered 4xx on purpose logs "Failed to load resource"; its own files never may.
    page.on(
        "console",
        lambda m: (
            errors.append(f"{page.url}: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda r: (
            errors.append(f"failed: {r.url} {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "")
            else None
        ),
    )
    try:
        yield page, errors
    finally:
        context.close()


def page_width(page: Page) -> int:
    """Return how wide the page's content is, in CSS pixels (wider than the window scrolls)."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


def check_at_both_widths(page: Page, name: str, *, exempt: str | None = None) -> None:
    """Check the open page with axe at 1280 px and at 320 px, where it must not scroll sideways.

    `exempt` names a selector (a two-dimensional diagram, WCAG 1.4.10's exception) that may
    scroll inside its own box; the page around it still must not.
    """
    page.set_viewport_size(NORMAL)
    check_page(page, name)
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(50)  # let the layout settle after the resize
    check_page(page, f"{name}-320")
    width = page_width(page)
    assert width <= NARROW["width"], f"{name} ({page.url}) is {width} px wide at 320 px" + (
        f" (outside {exempt})" if exempt else ""
    )
    page.set_viewport_size(NORMAL)
