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


def check_at_both_widths(page: Page, name: str) -> None:
    """Check the open page with axe at 1280 px and at 320 px; at neither may it scroll sideways.

    A data table or a diagram (two-dimensional content, which WCAG 1.4.10 exempts) may scroll
    inside its own box; the page around it may not.
    """
    for size in (NORMAL, NARROW):
        page.set_viewport_size(size)
        page.wait_for_function(f"window.innerWidth === {size['width']}")
        width = page_width(page)
        assert width <= size["width"], (
            f"{name} ({page.url}) is {width} px wide at {size['width']} px: {overflowing(page)}"
        )
        check_page(page, name if size is NORMAL else f"{name}-320")
    page.set_viewport_size(NORMAL)


def overflowing(page: Page) -> list[str]:
    """Return the elements that reach past the window's right edge (to say what is too wide)."""
    return list(
        page.evaluate(
            """() => {
              const found = [];
              for (const e of document.body.querySelectorAll('*')) {
                const r = e.getBoundingClientRect();
                let clipped = false;
                for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                  if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
                }
                if (!clipped && r.right > window.innerWidth + 1 && !found.some(f => e.closest(f.sel))) {
                  const sel = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
                  found.push({sel: e.id ? '#' + e.id : e.tagName.toLowerCase(), text: sel + ' ' + Math.round(r.right)});
                }
              }
              return found.slice(0, 12).map(f => f.text);
            }"""
        )
    )
