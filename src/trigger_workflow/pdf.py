"""Turn an HTML page (a letter, a case history) into a PDF, with WeasyPrint."""

from __future__ import annotations

import logging

import weasyprint

# WeasyPrint reports every CSS property it does not support at WARNING; that is noise here.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def html_to_pdf(html: str) -> bytes:
    """Return the PDF of a self-contained HTML page.

    The page must carry its own styles: no base URL is given, so nothing is fetched from disk
    or the network while rendering.
    """
    return weasyprint.HTML(string=html, base_url=None).write_pdf()
