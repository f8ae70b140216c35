"""Refuse hostile input at the door: ids too big for the database, NUL characters, deep JSON,
form fields without a name.

Each is refused before any view runs, with a clear 400 or 404 (a GOV.UK page, or JSON for the
API), so no view has to guard against them one by one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map, ValidationError

# The largest id the database's INTEGER columns hold (PostgreSQL int4, and so SQLite too).
MAX_ID = 2_147_483_647
# How deeply a JSON body may nest objects and arrays; the forms nest a handful of levels.
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class DatabaseId(IntegerConverter):
    """An `<int:...>` URL part the database can hold: 0..2,147,483,647, else the page is not found."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        """Return the id, or refuse (404) one too long to be an id at all."""
        if len(value) > len(str(MAX_ID)):
            raise ValidationError()
        number: int = super().to_python(value)
        return number


def init_app(app: Flask) -> None:
    """Bound every `<int:...>` URL part and refuse NUL characters and deep JSON in any request.

    Call before the blueprints are registered: their rules take the converter when added.
    """
    app.url_map.converters["int"] = DatabaseId

    @app.before_request
    def refuse_hostile_input() -> None:
        if _has_nul([request.path]) or _has_nul(_pairs(request.args)):
            raise BadRequest(
                "The address contains a NUL character (%00), which no page of this service uses."
            )
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if None in request.form or None in request.files:
                raise BadRequest(
                    "The form could not be read: one of its fields has no name. Nothing was saved."
                )
            names = [f.filename or "" for f in request.files.values()]
            if _has_nul(_pairs(request.form)) or _has_nul(names) or _has_nul(request.files):
                raise BadRequest(
                    "The form contains a NUL character, which no answer may hold. Nothing was "
                    "saved: remove it and send the form again."
                )
        if request.is_json:
            _check_json(request.get_data(cache=True, as_text=True))


def _check_json(text: str) -> None:
    """Refuse a JSON body nested deeper than MAX_JSON_DEPTH or holding a NUL character."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadRequest(
            f"The JSON body nests objects and arrays more than {MAX_JSON_DEPTH} deep; "
            "nothing was saved."
        )
    try:
        body = json.loads(text)
    except ValueError:
        return  # the view answers a body that is not JSON in its own words
    if _has_nul(_strings(body)):
        raise BadRequest("The JSON body contains a NUL character (\\u0000); nothing was saved.")


def json_depth(text: str) -> int:
    """Return how deeply a JSON text nests objects and arrays, without parsing it."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _pairs(values: Any) -> Iterable[str | None]:
    for key, items in values.lists():
        yield key
        yield from items


def _strings(value: Any) -> Iterable[str | None]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _has_nul(texts: Iterable[str | None]) -> bool:
    return any("\x00" in (text or "") for text in texts)
