"""Conditional questions: asked only when an ``if`` of the JSON Schema holds.

A question is conditional when a branch of an ``if`` forbids it with the ``false`` schema::

    "allOf": [{
      "if": {"required": ["outcome"], "properties": {"outcome": {"const": "met"}}},
      "then": {"required": ["basis"]},
      "else": {"properties": {"basis": false}}
    }]

``basis`` is asked only when ``outcome`` is ``met`` (a ``false`` under ``then`` asks it only when
the ``if`` fails). The ``if`` is evaluated with jsonschema on the question's object, so any
condition JSON Schema can state works. ``drop_inactive`` removes answers to questions whose
condition does not hold (a stale answer to a hidden question is never validated nor kept).
``reveal_trigger`` finds the sibling radio or checkbox choice that reveals a question, for GOV.UK's
conditional reveal; conditions it cannot place are still enforced by ``drop_inactive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from trigger_workflow.schema_forms.inputs import form_value
from trigger_workflow.schema_forms.schema import Path, Schema, item_schema, properties, shape_of


@dataclass(frozen=True)
class Condition:
    """Ask a question only when ``when`` holds (or only when it fails, if not ``holds``)."""

    when: Schema
    holds: bool

    def met(self, data: Mapping[str, Any]) -> bool:
        """Return whether the question is asked, given the answers of its object."""
        return Draft202012Validator(self.when).is_valid(data) == self.holds


def conditions(schema: Schema) -> dict[str, list[Condition]]:
    """Return, for each conditional property of an object schema, the conditions to ask it."""
    found: dict[str, list[Condition]] = {}
    for branch in _branches(schema):
        when = branch.get("if")
        if not isinstance(when, Mapping):
            continue
        for key, holds in (("else", True), ("then", False)):
            sub = branch.get(key)
            if not isinstance(sub, Mapping):
                continue
            for name, value in (sub.get("properties") or {}).items():
                if value is False:
                    found.setdefault(name, []).append(Condition(when, holds))
    return found


def _branches(schema: Schema) -> list[Schema]:
    """Return the schema and every allOf/then/else sub-schema that applies with it."""
    out = [schema]
    for sub in [*(schema.get("allOf") or []), schema.get("then"), schema.get("else")]:
        if isinstance(sub, Mapping):
            out += _branches(sub)
    return out


def drop_inactive(schema: Schema, data: Any) -> Any:
    """Return the data without answers to questions whose condition does not hold, at any depth."""
    if isinstance(data, list) and shape_of(schema) == "repeat":
        return [drop_inactive(item_schema(schema), row) for row in data]
    if not isinstance(data, Mapping) or shape_of(schema) != "object":
        return data
    found = conditions(schema)
    kept = dict(data)
    changed = True
    while changed:  # a dropped answer may turn off a question that depends on it
        changed = False
        for name, rules in found.items():
            if name in kept and not all(rule.met(kept) for rule in rules):
                del kept[name]
                changed = True
    props = properties(schema)
    return {key: drop_inactive(props.get(key, {}), value) for key, value in kept.items()}


def removed_paths(before: Any, after: Any, path: Path = ()) -> list[Path]:
    """Return the data paths present in ``before`` and gone from ``after`` (``drop_inactive``)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        return [
            p
            for key, value in before.items()
            for p in (
                removed_paths(value, after[key], (*path, key)) if key in after else [(*path, key)]
            )
        ]
    if isinstance(before, list) and isinstance(after, list):
        return [
            p
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for p in removed_paths(b, a, (*path, i))
        ]
    return []


def is_active(schema: Schema, name: str, data: Mapping[str, Any]) -> bool:
    """Return whether the property ``name`` of an object is asked, given its object's answers."""
    return all(rule.met(drop_inactive(schema, data)) for rule in conditions(schema).get(name, []))


def reveal_trigger(schema: Schema, name: str) -> tuple[str, str] | None:
    """Return (controlling property, choice) whose choosing reveals ``name``, if there is one.

    Only a condition on one sibling being one value (``const``, one-value ``enum``, or an array
    that ``contains`` a ``const``) can be shown as GOV.UK's reveal under that choice.
    """
    rules = conditions(schema).get(name, [])
    if len(rules) != 1 or not rules[0].holds:
        return None
    when = rules[0].when
    props = when.get("properties") or {}
    if len(props) != 1 or set(when) - {"properties", "required"}:
        return None
    [(controller, test)] = props.items()
    if controller not in (when.get("required") or []) or not isinstance(test, Mapping):
        return None
    inner = test.get("contains")
    value = _single_value(inner if isinstance(inner, Mapping) else test)
    return None if value is None else (controller, value)


def _single_value(test: Mapping[str, Any]) -> str | None:
    """Return the form value of a ``const`` or one-value ``enum`` test."""
    if "const" in test and len(test) == 1:
        return form_value(test["const"])
    enum = test.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and len(test) == 1:
        return form_value(enum[0])
    return None
