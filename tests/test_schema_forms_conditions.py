"""Conditional questions in schema_forms: found in the JSON Schema, revealed, and dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trigger_workflow.schema_forms import build_fields, drop_inactive, parse_and_validate, walk
from trigger_workflow.schema_forms.conditions import is_active, reveal_trigger
from trigger_workflow.schema_forms.pages import page_asked, page_of, page_schema, read_pages

FORMS = Path(__file__).resolve().parents[1] / "forms"
OUTCOME = {"required": ["outcome"], "properties": {"outcome": {"const": "met"}}}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome"],
    "properties": {
        "outcome": {"type": "string", "enum": ["met", "not_met"]},
        "basis": {"type": "string", "enum": ["count", "discretion"]},
        "factors": {"type": "array", "items": {"type": "string", "enum": ["harm", "persistence"]}},
        "note": {"type": "string", "maxLength": 3},
    },
    "allOf": [
        {"if": OUTCOME, "then": {"required": ["basis"]}, "else": {"properties": {"basis": False}}},
        {
            "if": {"required": ["basis"], "properties": {"basis": {"const": "discretion"}}},
            "else": {"properties": {"factors": False}},
        },
        {"if": OUTCOME, "then": {"properties": {"note": False}}},
    ],
}


def load(name: str) -> dict[str, Any]:
    """Return one of the project's forms."""
    return json.loads((FORMS / name).read_text())


def test_an_answer_to_a_question_not_asked_is_dropped_with_those_depending_on_it() -> None:
    data = {"outcome": "not_met", "basis": "discretion", "factors": ["harm"], "note": "ok"}
    assert drop_inactive(SCHEMA, data) == {"outcome": "not_met", "note": "ok"}
    met = {"outcome": "met", "basis": "count", "factors": ["harm"], "note": "x"}
    assert drop_inactive(SCHEMA, met) == {"outcome": "met", "basis": "count"}


def test_a_hidden_stale_answer_is_neither_an_error_nor_kept_but_a_shown_one_is_checked() -> None:
    stale = parse_and_validate(
        SCHEMA, {"outcome": "not_met", "basis": "discretion", "note": "too long"}
    )
    assert stale.data == {"outcome": "not_met", "note": "too long"}
    assert [e.path for e in stale.errors] == [("note",)]  # asked, so still validated
    assert "basis" not in stale.data and "basis" not in stale.raw
    missing = parse_and_validate(SCHEMA, {"outcome": "met"})
    assert [e.path for e in missing.errors] == [("basis",)]


def test_is_active_follows_the_answers() -> None:
    assert is_active(SCHEMA, "basis", {"outcome": "met"})
    assert not is_active(SCHEMA, "basis", {"outcome": "not_met"})
    assert not is_active(SCHEMA, "factors", {"outcome": "not_met", "basis": "discretion"})
    assert is_active(SCHEMA, "factors", {"outcome": "met", "basis": "discretion"})


def test_a_question_revealed_by_one_choice_is_nested_under_it() -> None:
    assert reveal_trigger(SCHEMA, "basis") == ("outcome", "met")
    assert reveal_trigger(SCHEMA, "factors") == ("basis", "discretion")
    assert reveal_trigger(SCHEMA, "note") is None  # asked when the if fails: not placeable
    fields = build_fields(SCHEMA, {}, {}, None, [])
    assert [f.name for f in fields] == ["outcome", "note"]
    [basis] = fields[0].children
    assert (basis.name, basis.options["revealed_by"]) == ("basis", "met")
    assert [(f.name, f.options["revealed_by"]) for f in basis.children] == [
        ("factors", "discretion")
    ]


def test_the_threshold_form_asks_the_basis_only_when_met() -> None:
    schema = load("decide_threshold.json")
    answers = {
        "threshold_outcome": "not_met",
        "threshold_basis": "count",
        "override_officer": "Sam",
        "threshold_reasons": "Reasons",
    }
    submission = parse_and_validate(schema, answers)
    assert submission.errors == []
    assert submission.data == {"threshold_outcome": "not_met", "threshold_reasons": "Reasons"}


def test_other_is_revealed_by_its_checkbox_and_a_single_old_answer_still_reads() -> None:
    schema = load("submit_application.json")
    incident = schema["properties"]["incidents"]["items"]
    assert reveal_trigger(incident, "reported_to_other") == ("reported_to", "other")
    kept = drop_inactive(incident, {"reported_to": ["police"], "reported_to_other": "Warden"})
    assert kept == {"reported_to": ["police"]}
    fields = build_fields(schema, {}, {"incidents": [{"reported_to": "police"}]}, None, [])
    ticked = next(f for f in walk(fields) if f.name == "incidents.0.reported_to")
    assert ticked.value == ["police"]


def test_pages_cut_the_form_and_skip_a_page_not_asked() -> None:
    schema, ui = load("submit_application.json"), load("submit_application_ui.json")
    pages = {page.id: page for page in read_pages(ui)}
    victim = pages["victim"]
    assert "consent_date" not in page_schema(schema, victim)["properties"]["victim"]["properties"]
    assert not page_asked(schema, victim, {"basis": "victim"})
    assert page_asked(schema, victim, {"basis": "group"})
    assert page_of(list(pages.values()), ("applicant", "email")) == pages["contact"]
    assert page_of(list(pages.values()), ("incidents", 1, "reported_on")) == pages["behaviour"]
