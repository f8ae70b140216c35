"""Read JSON Schemas and UI schemas: properties, display order, types, choices and titles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Path = tuple[str | int, ...]
Schema = Mapping[str, Any]
Choice = tuple[Any, str]


class _Missing:
    """Marker for a value that is absent (not the same as JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def properties(schema: Schema) -> dict[str, Schema]:
    """Return the properties of an object schema, including those only in allOf/then/else."""
    props: dict[str, Schema] = {
        key: value
        for key, value in (schema.get("properties") or {}).items()
        if isinstance(value, Mapping)  # ``false`` marks a conditional question, not a new one
    }
    extras = [*(schema.get("allOf") or []), schema.get("then"), schema.get("else")]
    for sub in extras:
        if isinstance(sub, Mapping):
            for key, value in properties(sub).items():
                props.setdefault(key, value)
    return props


def ordered_keys(schema: Schema, ui: Schema) -> list[str]:
    """Return property names in display order, honouring ``ui:order`` (with ``*``)."""
    keys = list(properties(schema))
    order = [key for key in ui.get("ui:order") or [] if key in keys or key == "*"]
    if not order:
        return keys
    listed = [key for key in order if key != "*"]
    rest = [key for key in keys if key not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    return order[:star] + rest + order[star + 1 :]


def sub_ui(ui: Schema, key: str) -> Schema:
    """Return the UI schema nested under ``key``."""
    sub = ui.get(key)
    return sub if isinstance(sub, Mapping) else {}


def ui_options(ui: Schema) -> Mapping[str, Any]:
    """Return the ``ui:options`` mapping."""
    options = ui.get("ui:options")
    return options if isinstance(options, Mapping) else {}


def item_schema(schema: Schema) -> Schema:
    """Return an array schema's item schema."""
    items = schema.get("items")
    return items if isinstance(items, Mapping) else {}


def schema_at(root: Schema, path: Path) -> Schema:
    """Return the subschema describing the value at a data path (empty if unknown)."""
    schema = root
    for part in path:
        schema = item_schema(schema) if isinstance(part, int) else properties(schema).get(part, {})
    return schema


def schema_type(schema: Schema) -> str:
    """Return the schema's (first non-null) type, inferring it when not declared."""
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    choices = declared_choices(schema, {})
    return _type_of_value(choices[0][0]) if choices else "string"


def _type_of_value(value: Any) -> str:
    """Return the JSON type name of a Python value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def declared_choices(schema: Schema, ui: Schema) -> list[Choice]:
    """Return (value, label) pairs from ``enum`` or ``oneOf``/``anyOf`` of ``const``s."""
    if isinstance(schema.get("enum"), list):
        names = list(ui.get("ui:enumNames") or [])
        return [
            (value, str(names[i]) if i < len(names) else value_text(value))
            for i, value in enumerate(schema["enum"])
        ]
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options and all(_is_const(o) for o in options):
            return [(o["const"], str(o.get("title", value_text(o["const"])))) for o in options]
    return []


def _is_const(option: Any) -> bool:
    """Return whether a oneOf/anyOf branch is a labelled constant."""
    return isinstance(option, Mapping) and "const" in option


def field_choices(schema: Schema, ui: Schema) -> list[Choice]:
    """Return the choices for a field, with Yes/No for plain booleans."""
    declared = declared_choices(schema, ui)
    if declared or schema_type(schema) != "boolean":
        return declared
    return [(True, "Yes"), (False, "No")]


def shape_of(schema: Schema) -> str:
    """Classify a schema: object, repeat, checkboxes, declaration, choice, date, or its type."""
    kind = schema_type(schema)
    if kind == "object":
        return "object"
    if kind == "array":
        return "checkboxes" if declared_choices(item_schema(schema), {}) else "repeat"
    if kind == "boolean" and schema.get("const") is True:
        return "declaration"
    if field_choices(schema, {}):
        return "choice"
    if kind == "string" and schema.get("format") == "date":
        return "date"
    return kind


def value_text(value: Any) -> str:
    """Return the text shown for a bare enum value."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def humanize(key: str | int) -> str:
    """Turn a property name such as ``behaviour_date`` into ``Behaviour date``."""
    text = re.sub(r"[_-]+", " ", str(key)).strip()
    return text[:1].upper() + text[1:]


def field_title(schema: Schema, key: str | int, ui: Schema | None = None) -> str:
    """Return the field's title: ``ui:title``, then ``title``, then its humanised name."""
    title = (ui or {}).get("ui:title") or schema.get("title")
    return str(title) if title else humanize(key)


def field_hint(schema: Schema, ui: Schema) -> str | None:
    """Return the hint: ``ui:help``, else the schema description."""
    hint = ui.get("ui:help") or schema.get("description")
    return str(hint) if hint else None


def in_sentence(title: str) -> str:
    """Return a title fit for the middle of a sentence ("Date of birth" -> "date of birth")."""
    text = title.strip().rstrip("?").strip()
    first_word = text.split(" ", 1)[0]
    if len(first_word) > 1 and first_word[1:].islower():
        return text[:1].lower() + text[1:]
    return text
