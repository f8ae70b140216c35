"""Server-side GOV.UK forms from JSON Schema (draft 2020-12) and rjsf-style UI schemas.

A user task names a JSON Schema and, optionally, a UI schema. This module turns them into
view models for ``web/templates/form/_fields.html``, reads a posted form back into typed JSON
data, validates data with jsonschema, and describes submitted data for a summary list. It
does not import Flask.

Use in a view::

    if request.method == "GET":
        fields = build_fields(schema, ui, task_data, None, [])
    else:
        sub = parse_and_validate(schema, request.form)
        extra_rows = add_row_request(request.form)         # an "Add another" button?
        if not extra_rows and not sub.errors:
            ...complete the task with sub.data and redirect...
        errors = [] if extra_rows else sub.errors
        fields = build_fields(schema, ui, sub.data, sub.raw, errors, extra_rows)
    summary = error_summary(fields)                         # for govukErrorSummary
    # template: {% from "form/_fields.html" import render_fields %} ... {{ render_fields(fields) }}

``parse_submission`` alone reports only what could not be read (numbers, dates);
``parse_and_validate`` adds the schema's errors, one per field, in document order. Empty
inputs are left out of the data; blank rows of repeated groups are dropped and the rest
renumbered (``Submission.raw`` and error paths use the new numbers); an unticked
``const: true`` checkbox reads as ``false``.

``build_fields`` takes values from ``raw`` where present, else from ``data``, else (only when
``raw`` is None) from the schema's ``default``. A repeated group shows its filled rows, at
least ``ui:options.minRows`` (default 1), plus ``extra_rows[input name]`` blank ones, capped
by ``maxItems``. An error whose path has no field goes on the nearest enclosing field.

``error_summary`` takes the fields (display order; dates link to their day box) or a list of
FieldErrors (pass ``schema=`` so dates still link to the day box).

``read_only_summary`` flattens nested objects and repeated groups into rows whose keys name
their place ("Incident 2: Date of the behaviour"), leaving out absent values and hidden
fields.

Input names are dotted data paths (``applicant.name``, ``incidents.0.behaviour_date``); a
date's parts add ``-day``, ``-month`` and ``-year``. Element ids replace anything but letters,
digits, ``_`` and ``-`` with ``-`` (``incidents-0-behaviour_date``), so property names must
not contain ``.`` and should not end in ``-day``/``-month``/``-year``.

Error messages are built from each field's title; a schema may override them with the
ajv-errors style keyword ``errorMessage``: a string for every error on that field, or an
object keyed by the failing keyword (``required``, ``type``, ``format``, ``minimum`` ...),
for example ``{"title": "Name", "errorMessage": {"required": "Enter the applicant's name"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

Path = tuple[str | int, ...]
Schema = Mapping[str, Any]
Choice = tuple[Any, str]

ADD_ROW = "_add"
"""Name of the "Add another" submit buttons; their value is the repeated field's input name."""

_DATE_PARTS = ("day", "month", "year")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_NUMBERS = {name.lower()[:3]: str(i) for i, name in enumerate(_MONTHS, start=1)}
_SELECT_PROMPT = "Select an option"


class _Missing:
    """Marker for a value that is absent (not the same as JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# ---------------------------------------------------------------------------------------------
# Public data types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """A problem with one field: its data path and a message a person understands."""

    path: Path
    message: str


@dataclass(frozen=True)
class Submission:
    """A posted form read back: typed ``data``, the ``raw`` text by input name, and ``errors``.

    ``raw`` maps input names (after blank repeat rows are dropped and rows renumbered, so they
    line up with ``data`` and the error paths) to the submitted strings; pass it to
    ``build_fields`` to redisplay exactly what the person typed.
    """

    data: dict[str, Any]
    raw: dict[str, list[str]]
    errors: list[FieldError]


@dataclass(eq=False)
class Field:
    """One question, or group of questions, ready for ``render_fields`` in ``form/_fields.html``.

    ``kind`` is one of input, textarea, radios, checkboxes, select, date, hidden, fieldset and
    repeat. ``value`` is a string, except a list of strings for checkboxes and a dict of
    day/month/year strings for dates. ``choices`` are (form value, text) pairs. A fieldset's
    ``children`` are its questions; a repeat's children are its rows.
    """

    kind: str
    path: Path
    label: str
    hint: str | None = None
    error: str | None = None
    value: Any = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Return the input name (dotted data path)."""
        return field_name(self.path)

    @property
    def id(self) -> str:
        """Return the element id."""
        return field_id(self.path)

    @property
    def anchor(self) -> str:
        """Return the id of the first input, for error summary links."""
        if self.kind == "date":
            return f"{self.id}-day"
        if self.kind in ("fieldset", "repeat") and self.children:
            return self.children[0].anchor
        return self.id

    @property
    def params(self) -> dict[str, Any]:
        """Return the parameters for this field's GOV.UK Frontend macro."""
        return _PARAMS[self.kind](self)

    @property
    def add_button(self) -> dict[str, Any] | None:
        """Return govukButton parameters for a repeat's "Add another" button, if it has one."""
        if self.kind != "repeat" or not self.options.get("can_add"):
            return None
        return {
            "text": f"Add another {self.options['item_label']}",
            "name": ADD_ROW,
            "value": self.name,
            "classes": "govuk-button--secondary",
        }


# ---------------------------------------------------------------------------------------------
# Names and ids
# ---------------------------------------------------------------------------------------------


def field_name(path: Path) -> str:
    """Return the form input name for a data path."""
    return ".".join(str(part) for part in path)


def field_id(path: Path) -> str:
    """Return the HTML element id for a data path."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", field_name(path))


# ---------------------------------------------------------------------------------------------
# Reading the schema
# ---------------------------------------------------------------------------------------------


def _properties(schema: Schema) -> dict[str, Schema]:
    """Return the properties of an object schema, including those only in allOf/then/else."""
    props: dict[str, Schema] = dict(schema.get("properties") or {})
    extras = [*(schema.get("allOf") or []), schema.get("then"), schema.get("else")]
    for sub in extras:
        if isinstance(sub, Mapping):
            for key, value in _properties(sub).items():
                props.setdefault(key, value)
    return props


def _ordered_keys(schema: Schema, ui: Schema) -> list[str]:
    """Return property names in display order, honouring ``ui:order`` (with ``*``)."""
    keys = list(_properties(schema))
    order = [key for key in ui.get("ui:order") or [] if key in keys or key == "*"]
    if not order:
        return keys
    listed = [key for key in order if key != "*"]
    rest = [key for key in keys if key not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    return order[:star] + rest + order[star + 1 :]


def _sub_ui(ui: Schema, key: str) -> Schema:
    """Return the UI schema nested under ``key``."""
    sub = ui.get(key)
    return sub if isinstance(sub, Mapping) else {}


def _json_type(value: Any) -> str:
    """Return the JSON type name of a Python value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _type(schema: Schema) -> str:
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
    choices = _declared_choices(schema, {})
    return _json_type(choices[0][0]) if choices else "string"


def _value_text(value: Any) -> str:
    """Return the text shown for a bare enum value."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _declared_choices(schema: Schema, ui: Schema) -> list[Choice]:
    """Return (value, label) pairs from ``enum`` or ``oneOf``/``anyOf`` of ``const``s."""
    if isinstance(schema.get("enum"), list):
        names = list(ui.get("ui:enumNames") or [])
        values = schema["enum"]
        return [
            (value, str(names[i]) if i < len(names) else _value_text(value))
            for i, value in enumerate(values)
        ]
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options and all(_is_const(o) for o in options):
            return [(o["const"], str(o.get("title", _value_text(o["const"])))) for o in options]
    return []


def _is_const(option: Any) -> bool:
    """Return whether a oneOf/anyOf branch is a labelled constant."""
    return isinstance(option, Mapping) and "const" in option


def _choices(schema: Schema, ui: Schema) -> list[Choice]:
    """Return the choices for a field, with Yes/No for plain booleans."""
    declared = _declared_choices(schema, ui)
    if declared or _type(schema) != "boolean":
        return declared
    return [(True, "Yes"), (False, "No")]


def _items(schema: Schema) -> Schema:
    """Return an array schema's item schema."""
    items = schema.get("items")
    return items if isinstance(items, Mapping) else {}


def _shape(schema: Schema) -> str:
    """Classify a schema: object, repeat, checkboxes, declaration, choice, date, or its type."""
    kind = _type(schema)
    if kind == "object":
        return "object"
    if kind == "array":
        return "checkboxes" if _declared_choices(_items(schema), {}) else "repeat"
    if kind == "boolean" and schema.get("const") is True:
        return "declaration"
    if _choices(schema, {}):
        return "choice"
    if kind == "string" and schema.get("format") == "date":
        return "date"
    return kind


def _schema_at(root: Schema, path: Path) -> Schema:
    """Return the subschema describing the value at a data path (empty if unknown)."""
    schema = root
    for part in path:
        schema = _items(schema) if isinstance(part, int) else _properties(schema).get(part, {})
    return schema


def _humanize(key: str | int) -> str:
    """Turn a property name such as ``behaviour_date`` into ``Behaviour date``."""
    text = re.sub(r"[_-]+", " ", str(key)).strip()
    return text[:1].upper() + text[1:]


def _title(schema: Schema, key: str | int, ui: Schema | None = None) -> str:
    """Return the field's title: ``ui:title``, then ``title``, then its humanised name."""
    title = (ui or {}).get("ui:title") or schema.get("title")
    return str(title) if title else _humanize(key)


def _in_sentence(title: str) -> str:
    """Return a title fit for the middle of a sentence ("Date of birth" -> "date of birth")."""
    text = title.strip().rstrip("?").strip()
    first_word = text.split(" ", 1)[0]
    if len(first_word) > 1 and first_word[1:].islower():
        return text[:1].lower() + text[1:]
    return text


def _hint(schema: Schema, ui: Schema) -> str | None:
    """Return the hint: ``ui:help``, else the schema description."""
    hint = ui.get("ui:help") or schema.get("description")
    return str(hint) if hint else None


# ---------------------------------------------------------------------------------------------
# Error messages
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    """What an error message is about."""

    schema: Schema
    title: str
    limit: Any = None

    @property
    def label(self) -> str:
        return _in_sentence(self.title)

    @property
    def shape(self) -> str:
        return _shape(self.schema)

    @property
    def item_label(self) -> str | None:
        title = _items(self.schema).get("title")
        return _in_sentence(str(title)) if title else None


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


def _msg_real_date(s: _Subject) -> str:
    return f"Enter a real date for {s.label}"


def _msg_type(s: _Subject) -> str:
    if s.shape in ("choice", "checkboxes", "declaration"):
        return _msg_required(s)
    if s.shape == "integer":
        return f"{s.title} must be a whole number"
    if s.shape == "number":
        return f"{s.title} must be a number"
    if s.shape == "date":
        return _msg_real_date(s)
    return f"{s.title} is not valid"


def _msg_format(s: _Subject) -> str:
    if s.schema.get("format") == "date":
        return _msg_real_date(s)
    if s.schema.get("format") == "email":
        return f"Enter {s.label} in the correct format, like name@example.com"
    return f"{s.title} is not in the correct format"


def _msg_choice(s: _Subject) -> str:
    if s.shape in ("choice", "checkboxes", "declaration"):
        return _msg_required(s)
    return f"{s.title} is not valid"


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


def _msg_invalid(s: _Subject) -> str:
    return f"{s.title} is not valid"


_MESSAGES = {
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

# Lower wins when one field has several errors; parse errors beat all of these.
_PRIORITY = {"required": 0, "dependentRequired": 0, "type": 1, "format": 2}


def _message(keyword: str, schema: Schema, path: Path, limit: Any = None) -> str:
    """Return the message for a failed keyword on the field at ``path``."""
    custom = _custom_message(schema, keyword)
    if custom:
        return custom
    key = path[-1] if path else ""
    subject = _Subject(schema=schema, title=_title(schema, key), limit=limit)
    return _MESSAGES.get(keyword, _msg_invalid)(subject)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def validate(schema: Schema, data: Any) -> list[FieldError]:
    """Validate data against the schema; return one error per field, in document order."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    ranked: list[tuple[int, FieldError]] = []
    for error in validator.iter_errors(data):
        priority = _PRIORITY.get(str(error.validator), 3)
        ranked.extend((priority, found) for found in _field_errors(schema, error))
    return _one_per_field(schema, ranked)


def _one_per_field(schema: Schema, ranked: list[tuple[int, FieldError]]) -> list[FieldError]:
    """Keep the highest-priority error for each path and sort them in document order."""
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
            schema = _items(schema)
            continue
        props = list(_properties(schema))
        key.append(props.index(part) if part in props else len(props))
        schema = _properties(schema).get(part, {})
    return tuple(key)


def _field_errors(root: Schema, error: ValidationError) -> list[FieldError]:
    """Map one jsonschema error to field errors (required errors go on the missing child)."""
    path: Path = tuple(error.absolute_path)
    keyword = str(error.validator)
    if keyword in ("required", "dependentRequired"):
        return [_missing_error(root, error, path + (key,)) for key in _missing_keys(error)]
    if keyword == "additionalProperties":
        return [
            FieldError(path + (key,), f"{key} is not an expected field")
            for key in _unexpected_keys(error)
        ]
    schema = {**error.schema, **_schema_at(root, path)} if isinstance(error.schema, Mapping) else {}
    return [FieldError(path, _message(keyword, schema, path, error.validator_value))]


def _missing_error(root: Schema, error: ValidationError, path: Path) -> FieldError:
    """Return the "enter/select ..." error for a missing required property."""
    schema = _schema_at(root, path)
    if not schema and isinstance(error.schema, Mapping):
        schema = _properties(error.schema).get(str(path[-1]), {})
    return FieldError(path, _message("required", schema, path))


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


# ---------------------------------------------------------------------------------------------
# Reading a posted form
# ---------------------------------------------------------------------------------------------


def _as_lists(form: Any) -> dict[str, list[str]]:
    """Return form values as lists of strings, from a MultiDict or a plain mapping."""
    getlist = getattr(form, "getlist", None)
    if callable(getlist):
        return {str(key): [str(v) for v in getlist(key)] for key in form}
    return {
        str(key): [value] if isinstance(value, str) else [str(v) for v in value]
        for key, value in form.items()
    }


def _row_indexes(form: Mapping[str, Any], name: str) -> list[int]:
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


def _is_blank(form: Mapping[str, list[str]], name: str) -> bool:
    """Return whether every input under ``name`` was left empty."""
    return not any(
        value.strip()
        for key, values in form.items()
        if key == name or key.startswith((f"{name}.", f"{name}-"))
        for value in values
    )


def _form_value(value: Any) -> str:
    """Return the form (string) representation of a JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or value is MISSING else str(value)


def _match_choice(choices: list[Choice], text: str) -> Any:
    """Return the choice value posted as ``text`` (the text itself if it matches none)."""
    return next((value for value, _ in choices if _form_value(value) == text), text)


def _number(text: str, whole: bool) -> int | float | None:
    """Parse a whole number or a decimal, allowing thousands commas; None if not a number."""
    cleaned = text.replace(",", "").replace(" ", "")
    if whole:
        return int(cleaned) if re.fullmatch(r"[+-]?\d+", cleaned) else None
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _date_parts_problem(parts: dict[str, str]) -> str | None:
    """Return which date parts are missing ("month", "day and year"), if any."""
    missing = [part for part in _DATE_PARTS if not parts[part]]
    return " and ".join(missing) if missing else None


def _iso_date(parts: dict[str, str]) -> str | None:
    """Return an ISO date from day/month/year text, or None if it is not a real date."""
    month = _MONTH_NUMBERS.get(parts["month"].lower()[:3], parts["month"])
    if not (parts["day"].isdigit() and month.isdigit() and re.fullmatch(r"\d{4}", parts["year"])):
        return None
    try:
        return date(int(parts["year"]), int(month), int(parts["day"])).isoformat()
    except ValueError:
        return None


class _FormReader:
    """Walk a schema over posted form values, collecting data, raw text and errors."""

    def __init__(self, form: dict[str, list[str]]) -> None:
        self.form = form
        self.raw: dict[str, list[str]] = {}
        self.errors: list[FieldError] = []

    def read(self, schema: Schema, src: str, path: Path, required: bool) -> Any:
        """Return the value posted under ``src`` for the field at ``path`` (or MISSING)."""
        shape = _shape(schema)
        if shape == "object":
            return self._object(schema, src, path, required)
        if shape == "repeat":
            return self._rows(schema, src, path)
        if shape == "checkboxes":
            return self._checkboxes(schema, src, path)
        if shape == "date":
            return self._date(schema, src, path)
        return self._scalar(schema, shape, src, path)

    def _object(self, schema: Schema, src: str, path: Path, required: bool) -> Any:
        wanted = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        for key, sub in _properties(schema).items():
            value = self.read(sub, f"{src}.{key}" if src else key, path + (key,), key in wanted)
            if value is not MISSING:
                out[key] = value
        return out if out or required or not path else MISSING

    def _rows(self, schema: Schema, src: str, path: Path) -> Any:
        items: list[Any] = []
        for index in _row_indexes(self.form, src):
            row_src = f"{src}.{index}"
            if not _is_blank(self.form, row_src):
                value = self.read(_items(schema), row_src, path + (len(items),), True)
                items.append(None if value is MISSING else value)
        return items or MISSING

    def _checkboxes(self, schema: Schema, src: str, path: Path) -> Any:
        values = [value for value in self.form.get(src, []) if value.strip()]
        if not values:
            return MISSING
        self.raw[field_name(path)] = values
        choices = _choices(_items(schema), {})
        return [_match_choice(choices, value) for value in values]

    def _date(self, schema: Schema, src: str, path: Path) -> Any:
        parts = {part: self._first(f"{src}-{part}").strip() for part in _DATE_PARTS}
        for part in _DATE_PARTS:
            self.raw[f"{field_name(path)}-{part}"] = [self._first(f"{src}-{part}")]
        if not any(parts.values()):
            return MISSING
        missing = _date_parts_problem(parts)
        iso = None if missing else _iso_date(parts)
        if iso is None:
            title = _title(schema, path[-1])
            message = f"{title} must include a {missing}" if missing else None
            self._error(path, message or _message("format", schema, path))
            return MISSING
        return iso

    def _scalar(self, schema: Schema, shape: str, src: str, path: Path) -> Any:
        if src in self.form:
            self.raw[field_name(path)] = [self._first(src)]
        text = self._first(src).replace("\r\n", "\n").strip()
        if shape == "declaration":
            return _match_choice([(True, "")], text) if text else False
        if not text:
            return MISSING
        if shape == "choice":
            return _match_choice(_choices(schema, {}), text)
        if shape in ("integer", "number"):
            number = _number(text, whole=shape == "integer")
            if number is None:
                self._error(path, _message("type", schema, path))
                return MISSING
            return number
        return text

    def _first(self, name: str) -> str:
        values = self.form.get(name) or [""]
        return values[0]

    def _error(self, path: Path, message: str) -> None:
        self.errors.append(FieldError(path, message))


def parse_submission(schema: Schema, form: Any) -> Submission:
    """Read a posted form into typed data, raw text and reading (not schema) errors."""
    reader = _FormReader(_as_lists(form))
    data = reader.read(schema, "", (), True)
    return Submission(data=data, raw=reader.raw, errors=reader.errors)


def parse_and_validate(schema: Schema, form: Any) -> Submission:
    """Read a posted form and validate it, keeping one error per field in document order."""
    submission = parse_submission(schema, form)
    ranked = [(-1, error) for error in submission.errors]
    ranked += [(0, error) for error in validate(schema, submission.data)]
    return replace(submission, errors=_one_per_field(schema, ranked))


def add_row_request(form: Any) -> dict[str, int]:
    """Return ``extra_rows`` for ``build_fields`` if an "Add another" button was pressed."""
    values = _as_lists(form).get(ADD_ROW) or []
    return {values[0]: 1} if values and values[0] else {}


# ---------------------------------------------------------------------------------------------
# Building view models
# ---------------------------------------------------------------------------------------------


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
        return _form_value(self._value(value, schema))

    def texts(self, path: Path, value: Any, schema: Schema) -> list[str]:
        """Return the values to tick in a group of checkboxes."""
        name = field_name(path)
        if self.raw is not None and name in self.raw:
            return list(self.raw[name])
        value = self._value(value, schema)
        return [_form_value(v) for v in value] if isinstance(value, list) else []

    def date_parts(self, path: Path, value: Any, schema: Schema) -> dict[str, str]:
        """Return the day, month and year text to show for a date."""
        name = field_name(path)
        if self.raw is not None and any(f"{name}-{p}" in self.raw for p in _DATE_PARTS):
            return {p: (self.raw.get(f"{name}-{p}") or [""])[0] for p in _DATE_PARTS}
        value = self._value(value, schema)
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            return dict.fromkeys(_DATE_PARTS, "")
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
        raw=_as_lists(raw) if raw is not None else None,
        extra_rows=extra_rows or {},
        use_defaults=raw is None,
    )
    fields = _children(context, schema, ui_schema or {}, data or {}, (), 0)
    _attach_errors(fields, errors)
    return fields


def _children(
    context: _Context, schema: Schema, ui: Schema, value: Any, path: Path, depth: int
) -> list[Field]:
    """Return fields for an object's properties in display order."""
    props = _properties(schema)
    values = value if isinstance(value, Mapping) else {}
    return [
        _build(
            context, props[key], _sub_ui(ui, key), values.get(key, MISSING), path + (key,), depth
        )
        for key in _ordered_keys(schema, ui)
    ]


def _widget(schema: Schema, ui: Schema) -> str:
    """Return the template kind for a schema and its UI options."""
    widget = ui.get("ui:widget")
    shape = _shape(schema)
    if widget == "hidden":
        return "hidden"
    kinds = {
        "object": "fieldset",
        "repeat": "repeat",
        "checkboxes": "checkboxes",
        "declaration": "checkboxes",
        "date": "date",
    }
    if shape in kinds:
        return kinds[shape]
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
        label=label or _title(schema, path[-1], ui),
        hint=_hint(schema, ui),
    )
    return _BUILDERS[kind](context, base, schema, ui, value, depth)


def _ui_options(ui: Schema) -> Mapping[str, Any]:
    """Return the ``ui:options`` mapping."""
    options = ui.get("ui:options")
    return options if isinstance(options, Mapping) else {}


def _build_input(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    kind = _type(schema)
    options: dict[str, Any] = {}
    if kind in ("integer", "number"):
        options["inputmode"] = "numeric" if kind == "integer" else "decimal"
        options["classes"] = "govuk-input--width-5"
        options["spellcheck"] = False
    if schema.get("format") == "email":
        options.update(type="email", autocomplete="email", spellcheck=False)
    options.update({k: v for k, v in _ui_options(ui).items() if k in ("classes", "autocomplete")})
    f.options = options
    return f


def _build_textarea(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    f.options = {"rows": _ui_options(ui).get("rows", 5)}
    return f


def _build_hidden(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    return f


def _build_choice(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    f.value = context.text(f.path, value, schema)
    f.choices = [(_form_value(v), text) for v, text in _choices(schema, ui)]
    f.options = {"inline": _type(schema) == "boolean" and len(f.choices) == 2}
    return f


def _build_checkboxes(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    if _shape(schema) == "declaration":
        return _build_declaration(context, f, schema, ui, value)
    items = _items(schema)
    f.value = context.texts(f.path, value, schema)
    f.choices = [(_form_value(v), t) for v, t in _choices(items, {**_sub_ui(ui, "items"), **ui})]
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


def _row_count(context: _Context, f: Field, schema: Schema, ui: Schema, value: Any) -> int:
    """Return how many rows a repeated field shows: filled rows, minRows, plus extra rows."""
    existing = len(value) if isinstance(value, list) else 0
    posted = max(_row_indexes(context.raw, f.name), default=-1) + 1 if context.raw else 0
    min_rows = int(_ui_options(ui).get("minRows", 1))
    count = max(existing, posted, min_rows) + int(context.extra_rows.get(f.name, 0))
    most = schema.get("maxItems")
    return min(count, max(int(most), existing)) if isinstance(most, int) else count


def _build_repeat(
    context: _Context, f: Field, schema: Schema, ui: Schema, value: Any, depth: int
) -> Field:
    items, items_ui = _items(schema), _sub_ui(ui, "items")
    titled = items.get("title") or "ui:title" in items_ui
    item_title = _title(items, "", items_ui) if titled else f.label
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
        "item_label": _in_sentence(item_title),
        "can_add": not isinstance(most, int) or count < most,
    }
    return f


def _build_row(
    context: _Context, schema: Schema, ui: Schema, value: Any, path: Path, depth: int, label: str
) -> Field:
    """Return one row of a repeated field."""
    row = _build(context, schema, ui, value, path, depth + 1, label)
    if row.kind == "fieldset":
        row.options["legend_classes"] = "govuk-fieldset__legend--s"
    return row


_BUILDERS = {
    "input": _build_input,
    "textarea": _build_textarea,
    "hidden": _build_hidden,
    "radios": _build_choice,
    "select": _build_choice,
    "checkboxes": _build_checkboxes,
    "date": _build_date,
    "fieldset": _build_fieldset,
    "repeat": _build_repeat,
}


def _walk(fields: Sequence[Field]) -> Iterator[Field]:
    """Yield fields and their descendants in document order."""
    for f in fields:
        yield f
        yield from _walk(f.children)


def _attach_errors(fields: list[Field], errors: Sequence[FieldError]) -> None:
    """Put each error on its field, or the nearest enclosing one; keep the first per field."""
    by_path = {f.path: f for f in _walk(fields)}
    for error in errors:
        path = error.path
        while path and path not in by_path:
            path = path[:-1]
        target = by_path.get(path) or (fields[0] if fields else None)
        if target is not None and target.error is None:
            target.error = error.message


# ---------------------------------------------------------------------------------------------
# Macro parameters
# ---------------------------------------------------------------------------------------------


def _common_params(f: Field) -> dict[str, Any]:
    return {
        "name": f.name,
        "hint": {"text": f.hint} if f.hint else None,
        "errorMessage": {"text": f.error} if f.error else None,
    }


def _label_params(f: Field) -> dict[str, Any]:
    return {"text": f.label, "classes": "govuk-label--s"}


def _legend_params(f: Field) -> dict[str, Any]:
    return {"legend": {"text": f.label, "classes": "govuk-fieldset__legend--s"}}


def _input_params(f: Field) -> dict[str, Any]:
    return _common_params(f) | {
        "id": f.id,
        "label": _label_params(f),
        "value": f.value or None,
        "type": f.options.get("type"),
        "inputmode": f.options.get("inputmode"),
        "autocomplete": f.options.get("autocomplete"),
        "spellcheck": f.options.get("spellcheck"),
        "classes": f.options.get("classes"),
    }


def _textarea_params(f: Field) -> dict[str, Any]:
    return _common_params(f) | {
        "id": f.id,
        "label": _label_params(f),
        "value": f.value or "",
        "rows": f.options.get("rows", 5),
    }


def _radios_params(f: Field) -> dict[str, Any]:
    return _common_params(f) | {
        "idPrefix": f.id,
        "fieldset": _legend_params(f),
        "classes": "govuk-radios--inline" if f.options.get("inline") else None,
        "items": [
            {"value": value, "text": text, "checked": value == f.value} for value, text in f.choices
        ],
    }


def _checkboxes_params(f: Field) -> dict[str, Any]:
    ticked = f.value or []
    single_without_legend = f.options.get("single") and not f.options.get("legend")
    return _common_params(f) | {
        "idPrefix": f.id,
        "fieldset": None if single_without_legend else _legend_params(f),
        "items": [
            {"value": value, "text": text, "checked": value in ticked} for value, text in f.choices
        ],
    }


def _select_params(f: Field) -> dict[str, Any]:
    prompt = {"value": "", "text": _SELECT_PROMPT, "selected": not f.value}
    return _common_params(f) | {
        "id": f.id,
        "label": _label_params(f),
        "items": [prompt]
        + [
            {"value": value, "text": text, "selected": value == f.value}
            for value, text in f.choices
        ],
    }


def _date_params(f: Field) -> dict[str, Any]:
    error_class = " govuk-input--error" if f.error else ""
    widths = {"day": 2, "month": 2, "year": 4}
    return _common_params(f) | {
        "id": f.id,
        "namePrefix": f.name,
        "fieldset": _legend_params(f),
        "items": [
            {
                "name": part,
                "label": part.capitalize(),
                "classes": f"govuk-input--width-{widths[part]}{error_class}",
                "value": (f.value or {}).get(part) or None,
            }
            for part in _DATE_PARTS
        ],
    }


def _hidden_params(f: Field) -> dict[str, Any]:
    return {"id": f.id, "name": f.name, "value": f.value or ""}


def _group_params(f: Field) -> dict[str, Any]:
    described = [f"{f.id}-{suffix}" for suffix, on in (("hint", f.hint), ("error", f.error)) if on]
    return {
        "legend": {"text": f.label, "classes": f.options.get("legend_classes")},
        "describedBy": " ".join(described) or None,
        "attributes": {"id": f.id},
    }


_PARAMS = {
    "input": _input_params,
    "textarea": _textarea_params,
    "radios": _radios_params,
    "checkboxes": _checkboxes_params,
    "select": _select_params,
    "date": _date_params,
    "hidden": _hidden_params,
    "fieldset": _group_params,
    "repeat": _group_params,
}


# ---------------------------------------------------------------------------------------------
# Error summary
# ---------------------------------------------------------------------------------------------


def error_summary(
    fields_or_errors: Sequence[Field] | Sequence[FieldError], schema: Schema | None = None
) -> list[dict[str, str]]:
    """Return govukErrorSummary ``errorList`` items linking to each field's first input."""
    items: list[dict[str, str]] = []
    for entry in fields_or_errors:
        if isinstance(entry, FieldError):
            items.append({"text": entry.message, "href": f"#{_error_anchor(entry.path, schema)}"})
        else:
            items += [{"text": f.error, "href": f"#{f.anchor}"} for f in _walk([entry]) if f.error]
    return items


def _error_anchor(path: Path, schema: Schema | None) -> str:
    """Return the id an error summary link for ``path`` should point to."""
    if schema is not None and _shape(_schema_at(schema, path)) == "date":
        return f"{field_id(path)}-day"
    return field_id(path)


# ---------------------------------------------------------------------------------------------
# Read-only summary
# ---------------------------------------------------------------------------------------------


def read_only_summary(
    schema: Schema, ui_schema: Schema | None, data: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Return govukSummaryList rows describing submitted data, with titles and labels."""
    rows: list[dict[str, Any]] = []
    _summarise(schema, ui_schema or {}, data or {}, (), rows)
    return rows


def _summarise(
    schema: Schema, ui: Schema, data: Mapping[str, Any], prefix: tuple[str, ...], rows: list
) -> None:
    """Append summary rows for an object's properties."""
    props = _properties(schema)
    for key in _ordered_keys(schema, ui):
        sub, sub_ui, value = props[key], _sub_ui(ui, key), data.get(key)
        if sub_ui.get("ui:widget") == "hidden" or value in (None, "", [], {}):
            continue
        _summarise_value(sub, sub_ui, value, (*prefix, _title(sub, key, sub_ui)), rows)


def _summarise_value(
    schema: Schema, ui: Schema, value: Any, keys: tuple[str, ...], rows: list
) -> None:
    """Append the summary rows for one value."""
    shape = _shape(schema)
    if shape == "object" and isinstance(value, Mapping):
        _summarise(schema, ui, value, keys, rows)
    elif shape == "repeat" and isinstance(value, list) and _shape(_items(schema)) == "object":
        items, items_ui = _items(schema), _sub_ui(ui, "items")
        item_title = _title(items, "", items_ui) if items.get("title") else keys[-1]
        for i, item in enumerate(value):
            if isinstance(item, Mapping):
                _summarise(items, items_ui, item, (*keys[:-1], f"{item_title} {i + 1}"), rows)
    else:
        rows.append(
            {"key": {"text": ": ".join(keys)}, "value": {"text": _display(schema, ui, value)}}
        )


def _display(schema: Schema, ui: Schema, value: Any) -> str:
    """Return a readable text for a value: labels for choices, long dates, Yes/No."""
    if isinstance(value, list):
        items, items_ui = _items(schema), {**_sub_ui(ui, "items"), **ui}
        return ", ".join(_display(items, items_ui, item) for item in value)
    labels = {_form_value(v): text for v, text in _choices(schema, ui)}
    if _form_value(value) in labels:
        return labels[_form_value(value)]
    if schema.get("format") == "date" and isinstance(value, str):
        return _long_date(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{_humanize(k)}: {_display({}, {}, v)}" for k, v in value.items())
    return _value_text(value)


def _long_date(value: str) -> str:
    """Return an ISO date as "23 November 2026" (the text itself if it is not a date)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
