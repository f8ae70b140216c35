"""Turn an HTML page (a letter, a case history) into a PDF, with WeasyPrint.

Every render shares one font configuration. Without one, WeasyPrint loads Fontconfig's
configuration and scans the system's fonts again for each document, and the native memory of
those configurations is not given back: the timer worker grew by about 0.25 MB per letter and
spent a third of each render on it (``bench/worker_memory.py``). Pango's font map is not safe
to share between threads, so renders in one process take turns.
"""

from __future__ import annotations

import logging
import threading

import weasyprint
from weasyprint.text.fonts import FontConfiguration

# WeasyPrint reports every CSS property it does not support at WARNING; that is noise here.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

_lock = threading.Lock()
_fonts: FontConfiguration | None = None


def html_to_pdf(html: str) -> bytes:
    """Return the PDF of a self-contained HTML page.

    The page must carry its own styles: no base URL is given, so nothing is fetched from disk
    or the network while rendering.
    """
    with _lock:
        document = weasyprint.HTML(string=html, base_url=None)
        return document.write_pdf(font_config=_font_configuration())


def _font_configuration() -> FontConfiguration:
    """Return this process's font configuration, made on first use (after any fork)."""
    global _fonts
    if _fonts is None:
        _fonts = FontConfiguration()
    return _fonts
