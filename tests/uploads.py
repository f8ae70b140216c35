"""Files and forms for the tests of applications, uploads and letters."""

from __future__ import annotations

import html as html_text
import io
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.public_form import send_public
from tests.scenario import encode, form_schema
from trigger_workflow.samples import APPLICATION

# Real file headers: the service looks at the bytes, never at the name.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
CONSENT_FIELD = "victim.consent_document-file"

VICTIM = {
    "name": "Vera Victim",
    "address": "3 Example Street, Derby",
    "postcode": "DE1 1AC",
    "preferred_contact": "post",
    "consent_given": True,
}


def on_behalf(**victim: Any) -> dict[str, Any]:
    """Return an application made for a neighbour, with these consent answers."""
    return dict(APPLICATION, basis="on_behalf", victim=dict(VICTIM, **victim))


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, Any],
    files: dict[str, tuple[bytes, str]] | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> Any:
    """Post an application form (public or officer) as a browser would, with any files."""
    if url == "/apply":
        answers = [*encode(form_schema("submit_application.json"), data), *(extra or [])]
        return send_public(client, answers, files)
    page = client.get(url)
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text)
    assert key is not None, page.text[:500]
    fields: list[tuple[str, Any]] = [
        *encode(form_schema("submit_application.json"), data),
        *(extra or []),
        ("submission_key", key.group(1)),
    ]
    for name, (content, filename) in (files or {}).items():
        fields.append((name, FileStorage(io.BytesIO(content), filename)))
    # Encoded here, in memory: the test client's own encoder spools big bodies to a temporary
    # file that it leaves open when the app refuses the request before reading it (413).
    boundary, body = encode_multipart(MultiDict(fields))
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def received_on(day: str = "2026-11-20") -> list[tuple[str, str]]:
    """Return the officer form's 'date received' inputs."""
    year, month, dom = day.split("-")
    return [
        ("received_on-day", dom),
        ("received_on-month", month),
        ("received_on-year", year),
    ]


def field_error(html: str, field_id: str) -> str:
    """Return the error message shown beside one field, or '' if none."""
    found = re.search(
        rf'id="{re.escape(field_id)}-error"[^>]*>\s*<span[^>]*>[^<]*</span>([^<]+)<', html
    )
    return html_text.unescape(found.group(1).strip()) if found else ""
