"""Errors of /api/v1 in one shape: RFC 9457 problem details (application/problem+json).

    {"type": "urn:trigger-workflow:problem:not-found", "title": "Page not found",
     "status": 404, "detail": "There is no case CT-2026-0001.", "errors": []}

`errors` lists what is wrong field by field ({"field": "data.incidents", "message": "..."}) for
400 and 422; it is empty otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import Response, json, request

PREFIX = "/api/v1/"
TYPES = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid",
    500: "server-error",
}


def wanted() -> bool:
    """Return whether this request is to /api/v1, whose errors are problem details."""
    return request.path.startswith(PREFIX)


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    """Return a problem details response."""
    body = {
        "type": f"urn:trigger-workflow:problem:{TYPES.get(status, 'error')}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [
            {k: str(v) for k, v in e.items() if k in ("field", "message")} for e in errors or []
        ],
    }
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
