"""Send the public application form through its question pages, as a browser without JS would."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

MAX_PAGES = 20


def send_public(
    client: FlaskClient,
    fields: list[tuple[str, str]],
    files: dict[str, tuple[bytes, str]] | None = None,
) -> TestResponse:
    """Answer every page with these inputs, then send from "Check your answers".

    Returns the last answer: the redirect to /apply/done, or the page (422) that shows a problem.
    """
    response = client.get("/apply")
    assert response.status_code == 302, response.text
    url = _path(response.location)
    for _ in range(MAX_PAGES):
        if url == "/apply/check":
            break
        response = post_page(client, url, fields, files)
        if response.status_code != 302:
            return response
        url = _path(response.location)
    else:
        raise AssertionError("the public form never reached Check your answers")
    page = client.get("/apply/check")
    assert page.status_code == 200, page.text
    response = client.post(
        "/apply/check", data=MultiDict([f for f in fields if f[0] == "csrf_token"])
    )
    if response.status_code == 302 and _path(response.location) != "/apply/done":
        return client.get(response.location)  # refused: the page with the problem
    return response


def post_page(
    client: FlaskClient,
    url: str,
    fields: list[tuple[str, str]],
    files: dict[str, tuple[bytes, str]] | None = None,
) -> TestResponse:
    """Post these inputs (and files) to one page, multipart as the browser sends it."""
    form: list[tuple[str, Any]] = list(fields)
    for name, (content, filename) in (files or {}).items():
        form.append((name, FileStorage(io.BytesIO(content), filename)))
    # Encoded here, in memory: the test client's own encoder spools big bodies to a temporary
    # file that it leaves open when the app refuses the request before reading it (413).
    boundary, body = encode_multipart(MultiDict(form))
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _path(location: str) -> str:
    return urlsplit(location).path
