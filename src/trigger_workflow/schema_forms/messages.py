"""Word a failed JSON Schema keyword as a GOV.UK-style error message for one field.

Messages are built from the field's title; a schema may override them with the ajv-errors
style keyword ``errorMessage``: a string for every error on that field, or an object keyed by
the failing keyword (``required``, ``type``, ``format``, ``minimum`` ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trigger_workflow.schema_forms.schema import (
    Path,
    Schema,
    field_title,
    in_sentence,
    item_schema,
    shape_of,
)

_CHOICE_SHAPES = ("choice", "checkboxes", "declaration")


@dataclass(frozen=True)
class _Subject:
    """What an error message is about."""

    schema: Schema
    title: str
    limit: Any = None

    @property
    def label(self) -> str:
        """Return the title as it reads mid-sentence."""
        return in_sentence(self.title)

    @property
    def shape(self) -> str:
        """Return the field's shape (see ``shape_of``)."""
        return shape_of(self.schema)

    @property
    def item_label(self) -> str | None:
        """Return a repeated field's item title as it reads mid-sentence, if it has one."""
        title = item_schema(self.schema).get("title")
        return in_sentence(str(title)) if title else None


def message(keyword: str, schema: Schema, path: Path, limit: Any = None) -> str:
    """Return the message for a failed keyword on the field at ``path``."""
    custom = _custom_message(schema, keyword)
    if custom:
        return custom
    key = path[-1] if path else ""
    subject = _Subject(schema=schema, title=field_title(schema, key), limit=limit)
    return _MESSAGES.get(keyword, _msg_invalid)(subject)


def _custom_message(schema: Schema, keyword: str) -> str | None:
    """Return the schema's own ``errorMessage`` for a keyword, if any."""
    custom = schema.get("errorMessage")
    if isinstance(custom, Mapping):
        custom = custom.get(keyword)
    return custom if isinstance(custom, str) else None


def _limit(value: Any) -> str:
    """Format a numeric limit for a message."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _msg_required(s: _Subject) -> str:
    if s.shape == "declaration":
        return _msg_declaration(s)
    if s.shape in ("choice", "checkboxes"):
        return f"Select {s.label}"
    if s.shape == "repeat":
        item = s.item_label
        return f"Add at least one {item}" if item else f"Add at least one entry to {s.label}"
    return f"Enter {s.label}"


def _msg_declaration(s: _Subject) -> str:
    # With a description, the title names the declaration ("Declaration") and the
    # description is the statement ticked; without one, the title is the statement.
    if s.schema.get("description"):
        return f"Confirm the {s.label}"
    return f"Select to confirm: {s.title}"


def _msg_invalid(s: _Subject) -> str:
    return f"{s.title} is not valid"


def _msg_choice(s: _Subject) -> str:
    return _msg_required(s) if s.shape in _CHOICE_SHAPES else _msg_invalid(s)


def _msg_real_date(s: _Subject) -> str:
    return f"Enter a real date for {s.label}"


def _msg_type(s: _Subject) -> str:
    if s.shape == "integer":
        return f"{s.title} must be a whole number"
    if s.shape == "number":
        return f"{s.title} must be a number"
    if s.shape == "date":
        return _msg_real_date(s)
    return _msg_choice(s)


def _msg_format(s: _Subject) -> str:
    if s.schema.get("format") == "date":
        return _msg_real_date(s)
    if s.schema.get("format") == "email":
        return f"Enter {s.label} in the correct format, like name@example.com"
    return f"{s.title} is not in the correct format"


def _msg_min_length(s: _Subject) -> str:
    if s.limit <= 1:
        return _msg_required(s)
    return f"{s.title} must be {s.limit} characters or more"


def _msg_max_length(s: _Subject) -> str:
    return f"{s.title} must be {s.limit} characters or fewer"


def _msg_minimum(s: _Subject) -> str:
    return f"{s.title} must be {_limit(s.limit)} or more"


def _msg_exclusive_minimum(s: _Subject) -> str:
    return f"{s.title} must be more than {_limit(s.limit)}"


def _msg_maximum(s: _Subject) -> str:
    return f"{s.title} must be {_limit(s.limit)} or less"


def _msg_exclusive_maximum(s: _Subject) -> str:
    return f"{s.title} must be less than {_limit(s.limit)}"


def _msg_min_items(s: _Subject) -> str:
    if s.limit <= 1:
        return _msg_required(s)
    if s.shape == "checkboxes":
        return f"Select at least {s.limit} options for {s.label}"
    return f"{s.title} must have at least {s.limit} entries"


def _msg_max_items(s: _Subject) -> str:
    if s.shape == "checkboxes":
        return f"Select no more than {s.limit} options for {s.label}"
    return f"{s.title} must have no more than {s.limit} entries"


def _msg_unique_items(s: _Subject) -> str:
    return f"{s.title} must not include the same entry more than once"


_MESSAGES: dict[str, Callable[[_Subject], str]] = {
    "required": _msg_required,
    "dependentRequired": _msg_required,
    "type": _msg_type,
    "format": _msg_format,
    "enum": _msg_choice,
    "const": _msg_choice,
    "oneOf": _msg_choice,
    "anyOf": _msg_choice,
    "minLength": _msg_min_length,
    "maxLength": _msg_max_length,
    "pattern": _msg_format,
    "minimum": _msg_minimum,
    "exclusiveMinimum": _msg_exclusive_minimum,
    "maximum": _msg_maximum,
    "exclusiveMaximum": _msg_exclusive_maximum,
    "minItems": _msg_min_items,
    "maxItems": _msg_max_items,
    "uniqueItems": _msg_unique_items,
}
