"""The Field view model, and the GOV.UK Frontend macro parameters each kind of field needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trigger_workflow.schema_forms.inputs import ADD_ROW, DATE_PARTS, field_id, field_name
from trigger_workflow.schema_forms.schema import Path

_SELECT_PROMPT = "Select an option"
FILE_SUFFIX = "-file"  # the name of a file input is its field's name plus this
_DATE_WIDTHS = {"day": 2, "month": 2, "year": 4}


@dataclass(eq=False)
class Field:
    """One question, or group of questions, ready for ``render_fields`` in ``form/_fields.html``.

    ``kind`` is one of input, textarea, radios, checkboxes, select, date, hidden, file, fieldset
    and repeat (a file field's value is the token of a document already uploaded, if any). ``value`` is a string, except a list of strings for checkboxes and a dict of
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


def _common_params(f: Field) -> dict[str, Any]:
    return {
        "name": f.name,
        "hint": {"text": f.hint} if f.hint else None,
        "errorMessage": {"text": f.error} if f.error else None,
    }


def _focus(f: Field) -> dict[str, Any] | None:
    """Return the attributes that focus this input when the page loads, if it is to be."""
    return {"autofocus": True} if f.options.get("autofocus") else None


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
        "attributes": _focus(f),
    }


def _textarea_params(f: Field) -> dict[str, Any]:
    return _common_params(f) | {
        "id": f.id,
        "label": _label_params(f),
        "value": f.value or "",
        "rows": f.options.get("rows", 5),
        "attributes": _focus(f),
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
    return _common_params(f) | {
        "id": f.id,
        "namePrefix": f.name,
        "fieldset": _legend_params(f),
        "items": [
            {
                "name": part,
                "label": part.capitalize(),
                "classes": f"govuk-input--width-{_DATE_WIDTHS[part]}{error_class}",
                "value": (f.value or {}).get(part) or None,
                "attributes": _focus(f) if part == DATE_PARTS[0] else None,
            }
            for part in DATE_PARTS
        ],
    }


def _file_params(f: Field) -> dict[str, Any]:
    # The file goes up as "<name>-file"; the document it became comes back as "<name>" in a
    # hidden input, so a form shown again with errors keeps what was already uploaded.
    accept = f.options.get("accept")
    return _common_params(f) | {
        "id": f.id,
        "name": f"{f.name}{FILE_SUFFIX}",
        "label": _label_params(f),
        "attributes": {"accept": accept} if accept else None,
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


_PARAMS: dict[str, Callable[[Field], dict[str, Any]]] = {
    "input": _input_params,
    "textarea": _textarea_params,
    "radios": _radios_params,
    "checkboxes": _checkboxes_params,
    "select": _select_params,
    "date": _date_params,
    "hidden": _hidden_params,
    "file": _file_params,
    "fieldset": _group_params,
    "repeat": _group_params,
}
