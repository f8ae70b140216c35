"""Validate data with jsonschema and turn its errors into one FieldError per field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from trigger_workflow.schema_forms.conditions import drop_inactive
from trigger_workflow.schema_forms.formats import FORMAT_CHECKER
from trigger_workflow.schema_forms.messages import message
from trigger_workflow.schema_forms.schema import Path, Schema, item_schema, properties, schema_at

# Lower wins when one field has several errors; parse errors (-1) beat all of these.
_PRIORITY = {"required": 0, "dependentRequired": 0, "type": 1, "format": 2}
_REQUIRED = ("required", "dependentRequired")


@dataclass(frozen=True)
class FieldError:
    """A problem with one field: its data path and a message a person understands."""

    path: Path
    message: str


def validate(schema: Schema, data: Any) -> list[FieldError]:
    """Validate data against the schema; return one error per field, in document order.

    Answers to conditional questions that are not asked are ignored (see ``conditions``).
    """
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    ranked: list[tuple[int, FieldError]] = []
    for error in validator.iter_errors(drop_inactive(schema, data)):
        priority = _PRIORITY.get(str(error.validator), 3)
        ranked.extend((priority, found) for found in _field_errors(schema, error))
    return one_per_field(schema, ranked)


def one_per_field(schema: Schema, ranked: list[tuple[int, FieldError]]) -> list[FieldError]:
    """Keep the highest-priority (lowest) error for each path, sorted in document order."""
    best: dict[Path, tuple[int, FieldError]] = {}
    for priority, error in ranked:
        if error.path not in best or priority < best[error.path][0]:
            best[error.path] = (priority, error)
    return sorted((error for _, error in best.values()), key=lambda e: _order_key(schema, e.path))


def _order_key(schema: Schema, path: Path) -> tuple[int, ...]:
    """Return a sort key placing a data path in schema (document) order."""
    key: list[int] = []
    for part in path:
        if isinstance(part, int):
            key.append(part)
            schema = item_schema(schema)
            continue
        props = properties(schema)
        names = list(props)
        key.append(names.index(part) if part in props else len(names))
        schema = props.get(part, {})
    return tuple(key)


def _field_errors(root: Schema, error: ValidationError) -> list[FieldError]:
    """Map one jsonschema error to field errors (required errors go on the missing child)."""
    path: Path = tuple(error.absolute_path)
    keyword = str(error.validator)
    if keyword in _REQUIRED:
        return [_missing_error(root, error, path + (key,)) for key in _missing_keys(error)]
    if keyword == "additionalProperties":
        return [
            FieldError(path + (key,), f"{key} is not an expected field")
            for key in _unexpected_keys(error)
        ]
    schema = {**error.schema, **schema_at(root, path)} if isinstance(error.schema, Mapping) else {}
    return [FieldError(path, message(keyword, schema, path, error.validator_value))]


def _missing_error(root: Schema, error: ValidationError, path: Path) -> FieldError:
    """Return the "enter/select ..." error for a missing required property."""
    schema = schema_at(root, path)
    if not schema and isinstance(error.schema, Mapping):
        schema = properties(error.schema).get(str(path[-1]), {})
    return FieldError(path, message("required", schema, path))


def _missing_keys(error: ValidationError) -> list[str]:
    """Return the property names a required/dependentRequired error says are missing."""
    instance = error.instance
    wanted: Any = error.validator_value
    if not isinstance(instance, Mapping):
        return []
    if error.validator == "required":
        return [key for key in wanted if key not in instance]
    return [
        dep
        for key, deps in wanted.items()
        if key in instance
        for dep in deps
        if dep not in instance
    ]


def _unexpected_keys(error: ValidationError) -> list[str]:
    """Return the property names an additionalProperties error objects to."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    allowed = schema.get("properties") or {}
    patterns = list(schema.get("patternProperties") or {})
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    return [
        str(key)
        for key in instance
        if key not in allowed and not any(re.search(p, str(key)) for p in patterns)
    ]
