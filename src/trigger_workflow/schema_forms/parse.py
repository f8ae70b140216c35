"""Read a posted form back into typed JSON data, keeping the raw text and reading errors.

Empty inputs are left out of the data; blank rows of repeated groups are dropped and the rest
renumbered (``Submission.raw`` and error paths use the new numbers); an unticked
``const: true`` checkbox is left out, so `required` decides whether it must be ticked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from trigger_workflow.schema_forms.conditions import drop_inactive, removed_paths
from trigger_workflow.schema_forms.errors import FieldError, one_per_field, validate
from trigger_workflow.schema_forms.inputs import (
    ADD_ROW,
    DATE_PARTS,
    MONTHS,
    as_lists,
    field_name,
    form_value,
    row_indexes,
)
from trigger_workflow.schema_forms.messages import message
from trigger_workflow.schema_forms.schema import (
    MISSING,
    Choice,
    Path,
    Schema,
    field_choices,
    field_title,
    item_schema,
    properties,
    shape_of,
)

_MONTH_NUMBERS = {name.lower()[:3]: str(i) for i, name in enumerate(MONTHS, start=1)}


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


def parse_submission(schema: Schema, form: Any) -> Submission:
    """Read a posted form into typed data, raw text and reading (not schema) errors.

    Answers to questions whose condition does not hold are dropped, with their raw text and
    reading errors: a hidden question's stale answer is neither kept nor an error.
    """
    reader = _FormReader(as_lists(form))
    read = reader.read(schema, "", (), True)
    data = drop_inactive(schema, read)
    gone = removed_paths(read, data)
    raw = {name: text for name, text in reader.raw.items() if not _under(name, gone)}
    errors = [e for e in reader.errors if not any(e.path[: len(p)] == p for p in gone)]
    return Submission(data=data, raw=raw, errors=errors)


def parse_and_validate(schema: Schema, form: Any) -> Submission:
    """Read a posted form and validate it, keeping one error per field in document order."""
    submission = parse_submission(schema, form)
    ranked = [(-1, error) for error in submission.errors]
    ranked += [(0, error) for error in validate(schema, submission.data)]
    return replace(submission, errors=one_per_field(schema, ranked))


def _under(name: str, paths: list[Path]) -> bool:
    """Return whether an input name belongs to the field at one of these data paths."""
    for path in paths:
        prefix = field_name(path)
        if name == prefix or name.startswith((f"{prefix}.", f"{prefix}-")):
            return True
    return False


def add_row_request(form: Any) -> dict[str, int]:
    """Return ``extra_rows`` for ``build_fields`` if an "Add another" button was pressed."""
    values = as_lists(form).get(ADD_ROW) or []
    return {values[0]: 1} if values and values[0] else {}


class _FormReader:
    """Walk a schema over posted form values, collecting data, raw text and errors."""

    def __init__(self, form: dict[str, list[str]]) -> None:
        self.form = form
        self.raw: dict[str, list[str]] = {}
        self.errors: list[FieldError] = []

    def read(self, schema: Schema, src: str, path: Path, required: bool) -> Any:
        """Return the value posted under ``src`` for the field at ``path`` (or MISSING)."""
        shape = shape_of(schema)
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
        for key, sub in properties(schema).items():
            value = self.read(sub, f"{src}.{key}" if src else key, path + (key,), key in wanted)
            if value is not MISSING:
                out[key] = value
        return out if out or required or not path else MISSING

    def _rows(self, schema: Schema, src: str, path: Path) -> Any:
        items: list[Any] = []
        for index in row_indexes(self.form, src):
            row_src = f"{src}.{index}"
            if not self._is_blank(row_src):
                value = self.read(item_schema(schema), row_src, path + (len(items),), True)
                items.append(None if value is MISSING else value)
        return items or MISSING

    def _checkboxes(self, schema: Schema, src: str, path: Path) -> Any:
        values = [value for value in self.form.get(src, []) if value.strip()]
        if not values:
            return MISSING
        self.raw[field_name(path)] = values
        choices = field_choices(item_schema(schema), {})
        return [_match_choice(choices, value) for value in values]

    def _date(self, schema: Schema, src: str, path: Path) -> Any:
        texts = {part: self._first(f"{src}-{part}") for part in DATE_PARTS}
        for part, text in texts.items():
            self.raw[f"{field_name(path)}-{part}"] = [text]
        parts = {part: text.strip() for part, text in texts.items()}
        if not any(parts.values()):
            return MISSING
        missing = " and ".join(part for part in DATE_PARTS if not parts[part])
        iso = None if missing else _iso_date(parts)
        if iso is None:
            self._error(path, _date_error(schema, path, missing))
            return MISSING
        return iso

    def _scalar(self, schema: Schema, shape: str, src: str, path: Path) -> Any:
        if src in self.form:
            self.raw[field_name(path)] = [self._first(src)]
        text = self._first(src).replace("\r\n", "\n").strip()
        if shape == "declaration":
            return _match_choice([(True, "")], text) if text else MISSING
        if not text:
            return MISSING
        if shape == "choice":
            return _match_choice(field_choices(schema, {}), text)
        if shape in ("integer", "number"):
            number = _number(text, whole=shape == "integer")
            if number is None:
                self._error(path, message("type", schema, path))
                return MISSING
            return number
        return text

    def _is_blank(self, name: str) -> bool:
        """Return whether every input under ``name`` was left empty."""
        return not any(
            value.strip()
            for key, values in self.form.items()
            if key == name or key.startswith((f"{name}.", f"{name}-"))
            for value in values
        )

    def _first(self, name: str) -> str:
        values = self.form.get(name) or [""]
        return values[0]

    def _error(self, path: Path, text: str) -> None:
        self.errors.append(FieldError(path, text))


def _match_choice(choices: list[Choice], text: str) -> Any:
    """Return the choice value posted as ``text`` (the text itself if it matches none)."""
    return next((value for value, _ in choices if form_value(value) == text), text)


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


def _date_error(schema: Schema, path: Path, missing: str) -> str:
    """Return the error for a date with parts ``missing`` ("day and year"), or not real."""
    if missing:
        return f"{field_title(schema, path[-1])} must include a {missing}"
    return message("format", schema, path)


def _iso_date(parts: Mapping[str, str]) -> str | None:
    """Return an ISO date from day/month/year text, or None if it is not a real date."""
    month = _MONTH_NUMBERS.get(parts["month"].lower()[:3], parts["month"])
    day_and_month = re.fullmatch(r"0*\d{1,2}", parts["day"]) and re.fullmatch(r"0*\d{1,2}", month)
    if not (day_and_month and re.fullmatch(r"\d{4}", parts["year"])):
        return None
    try:
        return date(int(parts["year"]), int(month), int(parts["day"])).isoformat()
    except ValueError:
        return None
