"""PDFs are made from HTML pages and hold their text."""

from __future__ import annotations

from trigger_workflow.pdf import html_to_pdf


def test_html_becomes_a_pdf_with_its_text() -> None:
    """A letter's HTML renders to a PDF document whose text contains the letter's words."""
    pdf = html_to_pdf(
        "<html><body><h1>Acknowledgement</h1><p>Reference CT-2026-0001</p></body></html>"
    )
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-64:]


def test_remote_resources_are_not_fetched() -> None:
    """An image pointing off-site is not fetched: rendering still succeeds, offline."""
    pdf = html_to_pdf('<p>Hello</p><img src="http://203.0.113.1/tracker.png">')
    assert pdf.startswith(b"%PDF-")
