"""Make the OpenAPI 3.1 document of /api/v1 from the views' own descriptions (operations.py)
with apispec: the schemas that check requests are the ones documented."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from trigger_workflow.web.api_v1 import schemas
from trigger_workflow.web.api_v1.operations import Operation

TITLE = "Community Trigger case review API"
VERSION = "1.0.0"
DESCRIPTION = """\
The supported API of the Community Trigger service, for councils' and partners' case systems.

Authenticate with an API client's token, issued by an administrator (`/admin/api-clients` or
`trigger-workflow api-clients issue`): send `Authorization: Bearer <token>`. A client acts with
the role and agency it was given, under the same rules as an officer: a partner agency's client
sees only the cases shared with its agency, and only its own agency's answers (R22).

Every error is an RFC 9457 problem details object (`application/problem+json`) with `type`,
`title`, `status`, `detail` and `errors` (field by field, for 400 and 422).
"""
ERROR_TEXT = {
    400: "The request cannot be read (a bad query, body or address)",
    401: "No valid token: missing, unknown, revoked or expired",
    403: "This client's role may not do this",
    404: "No such case or task, or one not shared with this client's agency",
    409: "The task or case changed first: already completed, claimed by another, or held",
    422: "The answers break the form's or the law's rules; nothing was saved",
}
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
KEY = "trigger_workflow.openapi"


def document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI document for this app (made on first use, then kept with the app)."""
    if KEY not in app.extensions:
        app.extensions[KEY] = build(app)
    built: dict[str, Any] = app.extensions[KEY]
    return built


def build(app: Flask) -> dict[str, Any]:
    """Make the OpenAPI 3.1 document from the routes of the api_v1 blueprint."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
        servers=[{"url": "/"}],
        security=[{"bearer": []}],
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API client's token."}
    )
    spec.components.schema("Problem", schema=schemas.Problem)
    for status, text in ERROR_TEXT.items():
        spec.components.response(
            f"Problem{status}",
            {"description": text, "content": {"application/problem+json": {"schema": "Problem"}}},
        )
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        described: Operation | None = getattr(view, "operation", None)
        if described is None or not rule.endpoint.startswith("api_v1."):
            continue
        operations = {
            method.lower(): _operation(rule.endpoint, rule.arguments, described)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        }
        spec.path(path=_ARGUMENT.sub(r"{\1}", rule.rule), operations=operations)
    _document_openapi(spec)
    return spec.to_dict()


def _operation(endpoint: str, arguments: Any, op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in sorted(arguments)
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    described: dict[str, Any] = {
        "operationId": endpoint.removeprefix("api_v1."),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": {
            str(op.status): {
                "description": "Done",
                "content": {"application/json": {"schema": type(op.response)}},
            },
            **{str(status): f"Problem{status}" for status in op.errors},
        },
    }
    if op.description:
        described["description"] = op.description
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    return described


def _document_openapi(spec: APISpec) -> None:
    spec.path(
        path="/api/v1/openapi.json",
        operations={
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["about"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    )
