"""Write a subject access export as files: JSON (the documented shape) and a readable PDF."""

from __future__ import annotations

import json
from typing import Any

import lxml.html
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from trigger_workflow import pdf

_templates = Environment(
    loader=PackageLoader("trigger_workflow", "templates/subject_access"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def as_json(document: dict[str, Any]) -> str:
    """Return the export as indented JSON, keys in the documented order."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def as_html(document: dict[str, Any], council_name: str) -> str:
    """Return the export as a self-contained HTML page (what the PDF is made from)."""
    return _templates.get_template("export.html").render(
        document=document, council_name=council_name, letter_text=letter_text, shown=shown
    )


def as_pdf(document: dict[str, Any], council_name: str) -> bytes:
    """Return the export as a PDF, rendered as letters and case histories are (WeasyPrint)."""
    return pdf.html_to_pdf(as_html(document, council_name))


def letter_text(html: str) -> str:
    """Return a letter's words without its markup and styles."""
    if not html.strip():
        return ""
    root = lxml.html.document_fromstring(html)
    for element in root.xpath("//style|//script|//head"):
        element.drop_tree()
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


def shown(value: Any) -> str:
    """Return a value as the PDF prints it."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
