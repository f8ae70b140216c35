"""Describe submitted data as govukSummaryList rows, with titles and choice labels.

Nested objects and repeated groups are flattened into rows whose keys name their place
("Incident 2: Date of the behaviour"); absent values and hidden fields are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from trigger_workflow.schema_forms.inputs import MONTHS, form_value
from trigger_workflow.schema_forms.schema import (
    Schema,
    field_choices,
    field_title,
    humanize,
    item_schema,
    ordered_keys,
    properties,
    shape_of,
    sub_ui,
    value_text,
)

Row = dict[str, Any]


def read_only_summary(
    schema: Schema, ui_schema: Schema | None, data: Mapping[str, Any] | None
) -> list[Row]:
    """Return govukSummaryList rows describing submitted data, with titles and labels."""
    return list(_object_rows(schema, ui_schema or {}, data or {}, ()))


def _object_rows(
    schema: Schema, ui: Schema, data: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[Row]:
    """Yield summary rows for an object's properties."""
    props = properties(schema)
    for key in ordered_keys(schema, ui):
        sub, key_ui, value = props[key], sub_ui(ui, key), data.get(key)
        if key_ui.get("ui:widget") == "hidden" or value in (None, "", [], {}):
            continue
        yield from _value_rows(sub, key_ui, value, (*prefix, field_title(sub, key, key_ui)))


def _value_rows(schema: Schema, ui: Schema, value: Any, keys: tuple[str, ...]) -> Iterator[Row]:
    """Yield the summary rows for one value."""
    shape = shape_of(schema)
    if shape == "object" and isinstance(value, Mapping):
        yield from _object_rows(schema, ui, value, keys)
    elif (
        shape == "repeat" and isinstance(value, list) and shape_of(item_schema(schema)) == "object"
    ):
        yield from _repeat_rows(schema, ui, value, keys)
    else:
        yield {"key": {"text": ": ".join(keys)}, "value": {"text": _display(schema, ui, value)}}


def _repeat_rows(
    schema: Schema, ui: Schema, rows: list[Any], keys: tuple[str, ...]
) -> Iterator[Row]:
    """Yield summary rows for each row of a repeated group, keyed "<item title> <n>"."""
    items, items_ui = item_schema(schema), sub_ui(ui, "items")
    item_title = field_title(items, "", items_ui) if items.get("title") else keys[-1]
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            yield from _object_rows(items, items_ui, row, (*keys[:-1], f"{item_title} {i + 1}"))


def _display(schema: Schema, ui: Schema, value: Any) -> str:
    """Return a readable text for a value: labels for choices, long dates, Yes/No."""
    if shape_of(schema) == "checkboxes" and not isinstance(value, list):
        value = [value]  # data kept before the question allowed several answers
    if isinstance(value, list):
        items, items_ui = item_schema(schema), {**sub_ui(ui, "items"), **ui}
        return ", ".join(_display(items, items_ui, item) for item in value)
    labels = {form_value(v): text for v, text in field_choices(schema, ui)}
    if form_value(value) in labels:
        return labels[form_value(value)]
    if schema.get("format") == "date" and isinstance(value, str):
        return _long_date(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{humanize(k)}: {_display({}, {}, v)}" for k, v in value.items())
    return value_text(value)


def _long_date(value: str) -> str:
    """Return an ISO date as "23 November 2026" (the text itself if it is not a date)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
