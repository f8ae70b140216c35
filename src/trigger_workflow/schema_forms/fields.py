"""Build the Field view models for a form, with values and errors in place, and link errors.

Values come from ``raw`` where present, else from ``data``, else (only when ``raw`` is None)
from the schema's ``default``. A repeated group shows its filled rows, at least
``ui:options.minRows`` (default 1), plus ``extra_rows[input name]`` blank ones, capped by
``maxItems``. An error whose path has no field goes on the nearest enclosing field.
``ui:options.hideChoices`` leaves choices out of a radio group (on a form that must not offer
them; the service still refuses them if posted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from trigger_workflow.schema_forms.components import Field
from trigger_workflow.schema_forms.conditions import reveal_trigger
from trigger_workflow.schema_forms.errors import FieldError
from trigger_workflow.schema_forms.inputs import (
    DATE_PARTS,
    as_lists,
    field_id,
    field_name,
    form_value,
    row_indexes,
)
from trigger_workflow.schema_forms.schema import (
    MISSING,
    Path,
    Schema,
    field_choices,
    field_hint,
    field_title,
    in_sentence,
    item_schema,
    ordered_keys,
    properties,
    schema_at,
    schema_type,
    shape_of,
    sub_ui,
    ui_options,
)

# Template kinds for shapes that do not depend on ``ui:widget``.
_SHAPE_KINDS = {
    "object": "fieldset",
    "repeat": "repeat",
    "checkboxes": "checkboxes",
    "declaration": "checkboxes",
    "date": "date",
}


@dataclass(frozen=True)
class _Context:
    """What ``build_fields`` needs at every level."""

    raw: dict[str, list[str]] | None
    extra_rows: Mapping[str, int]
    use_defaults: bool

    def text(self, path: Path, value: Any, schema: Schema) -> str:
        """Return the text to show in a single input."""
        name = field_name(path)
        if self.raw is not None and name in self.raw:
            return (self.raw[name] or [""])[0]
        return form_value(self._value(value, schema))

    def texts(self, path: Path, value: Any, schema: Schema) -> list[str]:
        """Return the values to tick in a group of checkboxes."""
        name = field_name(path)
        if self.raw is not None and name in self.raw:
            return list(self.raw[name])
        value = self._value(value, schema)
        if value is MISSING or value is None:
            return []
        # A single value is data kept before the question allowed several answers.
        return [form_value(v) for v in (value if isinstance(value, list) else [value])]

    def date_parts(self, path: Path, value: Any, schema: Schema) -> dict[str, str]:
        """Return the day, month and year text to show for a date."""
        name = field_name(path)
        if self.raw is not None and any(f"{name}-{p}" in self.raw for p in DATE_PARTS):
            return {p: (self.raw.get(f"{name}-{p}") or [""])[0] for p in DATE_PARTS}
        value = self._value(value, schema)
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            return dict.fromkeys(DATE_PARTS, "")
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}

    def _value(self, value: Any, schema: Schema) -> Any:
        if value is MISSING and self.use_defaults:
            return schema.get("default", MISSING)
        return value


def build_fields(
    schema: Schema,
    ui_schema: Schema | None,
    data: Mapping[str, Any] | None,
    raw: Mapping[str, Any] | None,
    errors: Sequence[FieldError],
    extra_rows: Mapping[str, int] | None = None,
) -> list[Field]:
    """Return the fields to render for a form, with values and errors in place."""
    context = _Context(
        raw=as_lists(raw) if raw is not None else None,
        extra_rows=extra_rows or {},
        use_defaults=raw is None,
    )
    fields = _children(context, schema, ui_schema or {}, data or {}, (), 0)
    _attach_errors(fields, errors)
    return fields


def error_summary(
    fields_or_errors: Sequence[Field] | Sequence[FieldError], schema: Schema | None = None
) -> list[dict[str, str]]:
    """Return govukErrorSummary ``errorList`` items linking to each field's first input."""
    items: list[dict[str, str]] = []
    for entry in fields_or_errors:
        if isinstance(entry, FieldError):
            items.append({"text": entry.message, "href": f"#{_error_anchor(entry.path, schema)}"})
        else:
            items += [{"text": f.error, "href": f"#{f.anchor}"} for f in walk([entry]) if f.error]
    return items


def _error_anchor(path: Path, schema: Schema | None) -> str:
    """Return the id an error summary link for ``path`` should point to."""
    if schema is not None and shape_of(schema_at(schema, path)) == "date":
        return f"{field_id(path)}-day"
    return field_id(path)


def _children(
    context: _Context, schema: Schema, ui: Schema, value: Any, path: Path, depth: int
) -> list[Field]:
    """Return fields for an object's properties in display order."""
    props = properties(schema)
    values = value if isinstance(value, Mapping) else {}
    built = {
        key: _build(
            context, props[key], sub_ui(ui, key), values.get(key, MISSING), path + (key,), depth
        )
        for key in ordered_keys(schema, ui)
    }
    return _nest_reveals(schema, built)


def _nest_reveals(schema: Schema, built: dict[str, Field]) -> list[Field]:
    """Move each conditional question under the radio or checkbox choice that reveals it."""
    top: list[Field] = []
    for key, f in built.items():
        trigger = reveal_trigger(schema, key)
        controller = built.get(trigger[0]) if trigger else None
        if trigger and controller and controller.kind in ("radios", "checkboxes"):
            f.options["revealed_by"] = trigger[1]
            controller.children.append(f)
        else:
            top.append(f)
    return top


def _widget(schema: Schema, ui: Schema) -> str:
    """Return the template kind for a schema and its UI options."""
    widget = ui.get("ui:widget")
    shape = shape_of(schema)
    if widget == "hidden":
        return "hidden"
    if widget == "file":
        return "file"
    if shape in _SHAPE_KINDS:
        return _SHAPE_KINDS[shape]
    if shape == "choice":
        return "select" if widget == "select" else "radios"
    return "textarea" if widget == "textarea" else "input"


def _build(
    context: _Context,
    schema: Schema,
    ui: Schema,
    value: Any,
    path: Path,
    depth: int,
    label: str | None = None,
) -> Field:
    """Return the field for one property (or one row of a repeated field)."""
    kind = _widget(schema, ui)
    base = Field(
        kind=kind,
        path=path,
        label=label or field_title(schema, path[-1], ui),
        hint=field_hint(schema, ui),
    )
    return _BUILDERS[kind](context, base, schema, ui, value, depth)


def _build_input(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    kind = schema_type(schema)
    options: dict[str, Any] = {}
    if kind in ("integer", "number"):
        options["inputmode"] = "numeric" if kind == "integer" else "decimal"
        options["classes"] = "govuk-input--width-5"
        options["spellcheck"] = False
    if schema.get("format") == "email":
        options.update(type="email", autocomplete="email", spellcheck=False)
    options.update({k: v for k, v in ui_options(ui).items() if k in ("classes", "autocomplete")})
    f.options = options
    return f


def _build_textarea(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    f.options = {"rows": ui_options(ui).get("rows", 5)}
    return f


def _build_hidden(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    return f


def _build_file(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    f.options = {k: v for k, v in ui_options(ui).items() if k == "accept"}
    return f


def _build_choice(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    hidden = {form_value(v) for v in ui_options(ui).get("hideChoices") or []}
    f.choices = [
        (form_value(v), text)
        for v, text in field_choices(schema, ui)
        if form_value(v) not in hidden
    ]
    f.options = {"inline": schema_type(schema) == "boolean" and len(f.choices) == 2}
    return f


def _build_checkboxes(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    if shape_of(schema) == "declaration":
        return _build_declaration(context, f, schema, ui, value)
    items_ui = {**sub_ui(ui, "items"), **ui}
    f.value = context.texts(f.path, value, schema)
    f.choices = [(form_value(v), t) for v, t in field_choices(item_schema(schema), items_ui)]
    return f


def _build_declaration(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any
) -> Field:
    """Make a single "I confirm" checkbox; a description becomes its text under the title."""
    text = context.text(f.path, value, schema)
    f.value = [text] if text else []
    statement = schema.get("description")
    f.choices = [("true", str(statement) if statement else f.label)]
    f.options = {"single": True, "legend": bool(statement)}
    f.hint = ui.get("ui:help")
    return f


def _build_date(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.date_parts(f.path, value, schema)
    f.hint = f.hint or "For example, 27 3 2007"
    return f


def _build_fieldset(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.children = _children(context, schema, ui, value, f.path, depth + 1)
    f.options = {"legend_classes": _legend_size(depth)}
    return f


def _legend_size(depth: int) -> str:
    """Return the legend class for a group at this nesting depth."""
    return "govuk-fieldset__legend--m" if depth == 0 else "govuk-fieldset__legend--s"


def _build_repeat(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    items, items_ui = item_schema(schema), sub_ui(ui, "items")
    titled = items.get("title") or "ui:title" in items_ui
    item_title = field_title(items, "", items_ui) if titled else f.label
    rows = value if isinstance(value, list) else []
    row_context = replace(context, use_defaults=False)
    count = _row_count(context, f, schema, ui, value)
    f.children = [
        _build_row(
            row_context,
            items,
            items_ui,
            rows[i] if i < len(rows) else MISSING,
            f.path + (i,),
            depth,
            f"{item_title} {i + 1}",
        )
        for i in range(count)
    ]
    most = schema.get("maxItems")
    f.options = {
        "legend_classes": _legend_size(depth),
        "item_label": in_sentence(item_title),
        "can_add": not isinstance(most, int) or count < most,
    }
    return f


def _row_count(context: _Context, f: Field, schema: Schema, ui: Schema, value: Any) -> int:
    """Return how many rows a repeated field shows: filled rows, minRows, plus extra rows."""
    existing = len(value) if isinstance(value, list) else 0
    posted = max(row_indexes(context.raw, f.name), default=-1) + 1 if context.raw else 0
    min_rows = int(ui_options(ui).get("minRows", 1))
    count = max(existing, posted, min_rows) + int(context.extra_rows.get(f.name, 0))
    most = schema.get("maxItems")
    return min(count, max(int(most), existing)) if isinstance(most, int) else count


def _build_row(
    context: _Context, schema: Schema, ui: Schema, value: Any, path: Path, depth: int, label: str
) -> Field:
    """Return one row of a repeated field."""
    row = _build(context, schema, ui, value, path, depth + 1, label)
    if row.kind == "fieldset":
        row.options["legend_classes"] = "govuk-fieldset__legend--s"
    return row


_BUILDERS: dict[str, Callable[[_Context, Field, Schema, Schema, Any, int], Field]] = {
    "input": _build_input,
    "textarea": _build_textarea,
    "hidden": _build_hidden,
    "file": _build_file,
    "radios": _build_choice,
    "select": _build_choice,
    "checkboxes": _build_checkboxes,
    "date": _build_date,
    "fieldset": _build_fieldset,
    "repeat": _build_repeat,
}


def walk(fields: Sequence[Field]) -> Iterator[Field]:
    """Yield fields and their descendants in document order."""
    for f in fields:
        yield f
        yield from walk(f.children)


def _attach_errors(fields: list[Field], errors: Sequence[FieldError]) -> None:
    """Put each error on its field, or the nearest enclosing one; keep the first per field."""
    by_path = {f.path: f for f in walk(fields)}
    for error in errors:
        path = error.path
        while path and path not in by_path:
            path = path[:-1]
        target = by_path.get(path) or (fields[0] if fields else None)
        if target is not None and target.error is None:
            target.error = error.message
