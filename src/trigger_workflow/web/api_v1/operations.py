"""Describe each /api/v1 view once, in code: its inputs and output as marshmallow schemas that
both check the request and generate the OpenAPI document (openapi.py), so the two cannot drift."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from trigger_workflow.errors import FieldProblem, FormInvalid, TriggerWorkflowError


class BadQuery(FormInvalid):
    """A query parameter is not one this operation understands."""

    status = 400
    title = "There is a problem with the query"


@dataclass(frozen=True)
class Operation:
    """What one API operation takes and gives, and which errors it may answer."""

    summary: str
    tag: str
    response: Schema
    status: int = 200
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    errors: tuple[int, ...] = (400, 401, 403, 404)
    description: str = ""


def operation(**described: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Check the request against the operation's schemas, call the view with `query` and `body`
    as they were read, and answer what it returns through the response schema."""
    op = Operation(**described)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(**path: Any) -> Any:
            kwargs = dict(path)
            if op.query is not None:
                kwargs["query"] = _load(op.query(), request.args.to_dict(), BadQuery)
            if op.body is not None:
                body = request.get_json(silent=True)
                if not isinstance(body, dict):
                    raise TriggerWorkflowError(
                        "Send a JSON object (Content-Type: application/json)."
                    )
                kwargs["body"] = _load(op.body(), body, None)
            return op.response.dump(view(**kwargs)), op.status

        wrapped.operation = op  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _load(schema: Schema, values: dict[str, Any], error: type[BadQuery] | None) -> Any:
    try:
        return schema.load(values)
    except ValidationError as invalid:
        problems = [FieldProblem(tuple(path), message) for path, message in _flat(invalid.messages)]
        raise (error or FormInvalid)(problems) from None


def _flat(messages: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Flatten marshmallow's nested messages into (field path, message) pairs."""
    if isinstance(messages, dict):
        return [pair for key, value in messages.items() for pair in _flat(value, (*path, str(key)))]
    if isinstance(messages, list):
        return [pair for item in messages for pair in _flat(item, path)]
    return [(path, str(messages))]
