"""Words for stored values: choices by their form labels, dates as GOV.UK writes them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from markupsafe import escape

from trigger_workflow.schema_forms.schema import field_choices, item_schema, properties, sub_ui
from trigger_workflow.services.accounts.actors import AGENCIES
from trigger_workflow.services.process_owners import processes

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# "(R5)", "(R14, R15)", "(R1–R4)": rule numbers are for the process owners, not for officers.
RULE_CODES = re.compile(r"\s*\((?:R\d+(?:\s*(?:,|–|-|and)\s*R?\d+)*)(?:[^()]*)\)")
# Values of the engine's own data that no form offers as a choice.
WORDS = {"agency": AGENCIES}


def long_date(value: date | str | None) -> str:
    """Write a date as GOV.UK does: '5 December 2026' (an ISO text date too)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if not ISO_DATE.match(value):
            return value
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
    else:
        day = value
    return f"{day.day} {day:%B %Y}"


def without_rule_codes(text: str) -> str:
    """Take the process rules' numbers ("(R5)") out of text shown to officers."""
    return RULE_CODES.sub("", text)


_LABELS: dict[str, dict[str, dict[str, str]]] = {}  # by version content hash


def choice_labels(deployed: processes.DeployedProcess) -> dict[str, dict[str, str]]:
    """Return, for each field name of a version's forms, its choices' labels by value."""
    if deployed.content_hash not in _LABELS:
        found: dict[str, dict[str, str]] = {}
        for task in deployed.user_tasks.values():
            _collect(deployed.form(task.form) or {}, deployed.form(task.ui_form) or {}, found)
        _LABELS[deployed.content_hash] = found
    return _LABELS[deployed.content_hash]


def _collect(
    schema: Mapping[str, Any], ui: Mapping[str, Any], found: dict[str, dict[str, str]]
) -> None:
    for key, sub in properties(schema).items():
        key_ui = sub_ui(ui, key)
        target = item_schema(sub) if sub.get("type") == "array" else sub
        target_ui = sub_ui(key_ui, "items") if sub.get("type") == "array" else key_ui
        labels = {
            str(value): text
            for value, text in field_choices(target, target_ui)
            if not isinstance(value, bool)
        }
        if labels:
            found.setdefault(key, {}).update(labels)
        if target.get("type") == "object":
            _collect(target, target_ui, found)


class Worded(str):
    """A stored value that compares as itself but prints as words ('large_print' as 'Large print').

    Instructions written by process owners may test values (`appeal_outcome == 'upheld'`) and
    print them: both keep working.
    """

    words: str

    def __new__(cls, value: str, words: str) -> Worded:
        """Keep the value, and the words to print for it."""
        made = super().__new__(cls, value)
        made.words = words
        return made

    def __str__(self) -> str:
        return self.words

    def __html__(self) -> str:
        return str(escape(self.words))


def in_words(data: dict[str, Any], labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Return case data whose choices print as their labels and dates as GOV.UK writes them."""
    return {key: _value_in_words(key, value, labels) for key, value in data.items()}


def _value_in_words(key: str, value: Any, labels: dict[str, dict[str, str]]) -> Any:
    table = labels.get(key) or WORDS.get(key) or {}
    if isinstance(value, dict):
        return in_words(value, labels)
    if isinstance(value, list):
        return [_value_in_words(key, item, labels) for item in value]
    if isinstance(value, str):
        words = table.get(value) or long_date(value)
        return Worded(value, words) if words != value else value
    return value
