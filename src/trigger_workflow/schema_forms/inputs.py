"""Name HTML form inputs after data paths, and write and read the values they hold."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trigger_workflow.schema_forms.schema import MISSING, Path

ADD_ROW = "_add"
"""Name of the "Add another" submit buttons; their value is the repeated field's input name."""

DATE_PARTS = ("day", "month", "year")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def field_name(path: Path) -> str:
    """Return the form input name for a data path."""
    return ".".join(str(part) for part in path)


def field_id(path: Path) -> str:
    """Return the HTML element id for a data path."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", field_name(path))


def form_value(value: Any) -> str:
    """Return the form (string) representation of a JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or value is MISSING else str(value)


def as_lists(form: Any) -> dict[str, list[str]]:
    """Return form values as lists of strings, from a MultiDict or a plain mapping."""
    getlist = getattr(form, "getlist", None)
    if callable(getlist):
        return {str(key): [str(v) for v in getlist(key)] for key in form}
    return {
        str(key): [value] if isinstance(value, str) else [str(v) for v in value]
        for key, value in form.items()
    }


def row_indexes(form: Mapping[str, Any], name: str) -> list[int]:
    """Return the row numbers posted for a repeated field, in order."""
    prefix = f"{name}."
    found: set[int] = set()
    for key in form:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            head = re.sub(r"-(day|month|year)$", "", head)
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def encode_form(schema: Mapping[str, Any], data: Any, path: Path = ()) -> list[tuple[str, str]]:
    """Return the fields a browser posts for this data: the inverse of reading a submission."""
    name = field_name(path)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return [f for k, v in data.items() for f in encode_form(properties[k], v, (*path, k))]
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "object":
            return [f for i, item in enumerate(data) for f in encode_form(items, item, (*path, i))]
        return [(name, str(v)) for v in data]
    if kind == "boolean":
        return [(name, "true" if data else "false")]
    if schema.get("format") == "date":
        year, month, day = data.split("-")
        return [(f"{name}-day", day), (f"{name}-month", month), (f"{name}-year", year)]
    return [(name, str(data))]
