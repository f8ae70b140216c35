"""Tests for JSON Schema forms: reading posted forms, validation, rendering and summaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html
import pytest
from flask import Flask, render_template
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.datastructures import MultiDict

import trigger_workflow
from trigger_workflow import schema_forms
from trigger_workflow.schema_forms import (
    FieldError,
    add_row_request,
    build_fields,
    error_summary,
    parse_and_validate,
    parse_submission,
    read_only_summary,
    validate,
)

TEMPLATES = Path(trigger_workflow.__file__).parent / "web" / "templates"

APPLICATION: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "title": "Apply for a case review",
    "required": ["applicant", "incidents", "reported", "declaration"],
    "additionalProperties": False,
    "properties": {
        "applicant": {
            "type": "object",
            "title": "Applicant",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "title": "Applicant's name", "minLength": 1},
                "email": {"type": "string", "format": "email", "title": "Email address"},
                "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth"},
            },
        },
        "channel": {
            "type": "string",
            "title": "How the application was made",
            "enum": ["online", "phone", "letter"],
        },
        "reported": {"type": "boolean", "title": "Have you reported the behaviour?"},
        "reported_to": {
            "type": "string",
            "title": "Who the incident was reported to",
            "oneOf": [
                {"const": "police", "title": "Police"},
                {"const": "council", "title": "The council"},
                {"const": "housing", "title": "Housing provider"},
            ],
        },
        "agencies": {
            "type": "array",
            "title": "Agencies involved",
            "uniqueItems": True,
            "items": {
                "type": "string",
                "oneOf": [
                    {"const": "police", "title": "Police"},
                    {"const": "housing", "title": "Housing provider"},
                    {"const": "health", "title": "Health"},
                ],
            },
        },
        "incidents": {
            "type": "array",
            "title": "Incidents",
            "minItems": 1,
            "items": {
                "type": "object",
                "title": "Incident",
                "required": ["behaviour_date", "description"],
                "properties": {
                    "behaviour_date": {
                        "type": "string",
                        "format": "date",
                        "title": "Date of the behaviour",
                    },
                    "description": {"type": "string", "title": "What happened", "maxLength": 500},
                    "people_involved": {
                        "type": "integer",
                        "title": "People involved",
                        "minimum": 1,
                    },
                },
            },
        },
        "qualifying_complaints": {
            "type": "integer",
            "title": "Qualifying complaints",
            "minimum": 0,
        },
        "declaration": {
            "type": "boolean",
            "const": True,
            "title": "Declaration",
            "description": "I confirm that the information I have given is true",
        },
    },
    "if": {"properties": {"reported": {"const": True}}, "required": ["reported"]},
    "then": {"required": ["reported_to"]},
}

APPLICATION_UI: dict[str, Any] = {
    "ui:order": ["applicant", "*", "declaration"],
    "channel": {"ui:widget": "select"},
    "incidents": {
        "ui:options": {"minRows": 1},
        "items": {
            "description": {"ui:widget": "textarea", "ui:options": {"rows": 3}},
        },
    },
    "qualifying_complaints": {"ui:help": "Count complaints made in the last 6 months"},
}

COMPLETE_FORM = [
    ("applicant.name", "  Sam Smith  "),
    ("applicant.email", "sam@example.com"),
    ("applicant.date_of_birth-day", "9"),
    ("applicant.date_of_birth-month", "7"),
    ("applicant.date_of_birth-year", "1980"),
    ("channel", "phone"),
    ("reported", "true"),
    ("reported_to", "council"),
    ("agencies", "police"),
    ("agencies", "health"),
    ("incidents.0.behaviour_date-day", "23"),
    ("incidents.0.behaviour_date-month", "11"),
    ("incidents.0.behaviour_date-year", "2026"),
    ("incidents.0.description", "Loud music\r\nevery night"),
    ("incidents.0.people_involved", "3"),
    ("qualifying_complaints", "1,200"),
    ("declaration", "true"),
]


def form(*pairs: tuple[str, str], without: tuple[str, ...] = ()) -> MultiDict[str, str]:
    """Return the complete application form with some fields replaced or removed."""
    replaced = {name for name, _ in pairs}
    kept = [(k, v) for k, v in COMPLETE_FORM if k not in replaced and k not in without]
    return MultiDict(kept + list(pairs))


def messages(errors: list[FieldError]) -> dict[tuple[str | int, ...], str]:
    return {error.path: error.message for error in errors}


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.jinja_loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "test_forms/base.html": "<html><body><main>{% block content %}{% endblock %}"
                    "</main></body></html>",
                    "test_forms/page.html": '{% extends "test_forms/base.html" %}'
                    '{% from "form/_fields.html" import render_fields %}'
                    '{% block content %}<form method="post" novalidate>'
                    "{{ render_fields(fields) }}</form>{% endblock %}",
                }
            ),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            FileSystemLoader(TEMPLATES),
        ]
    )
    return app


def render(app: Flask, fields: list[schema_forms.Field]) -> lxml.html.HtmlElement:
    with app.app_context():
        html = render_template("test_forms/page.html", fields=fields)
    return lxml.html.fromstring(html)


def error_beside(doc: lxml.html.HtmlElement, element_id: str) -> str:
    """Return the error message in the form group around an element."""
    element = doc.get_element_by_id(element_id)
    group = next(
        a for a in element.iterancestors() if "govuk-form-group--error" in a.get("class", "")
    )
    (message,) = group.find_class("govuk-error-message")
    return " ".join(message.text_content().split())


# --- reading and validating a posted form ---------------------------------------------------


def test_complete_form_round_trips_to_typed_json_that_validates() -> None:
    submission = parse_and_validate(APPLICATION, form())

    assert submission.errors == []
    assert submission.data == {
        "applicant": {
            "name": "Sam Smith",
            "email": "sam@example.com",
            "date_of_birth": "1980-07-09",
        },
        "channel": "phone",
        "reported": True,
        "reported_to": "council",
        "agencies": ["police", "health"],
        "incidents": [
            {
                "behaviour_date": "2026-11-23",
                "description": "Loud music\nevery night",
                "people_involved": 3,
            }
        ],
        "qualifying_complaints": 1200,
        "declaration": True,
    }
    assert validate(APPLICATION, submission.data) == []


def test_form_rebuilt_from_data_posts_back_the_same_data(app: Flask) -> None:
    data = parse_and_validate(APPLICATION, form()).data
    doc = render(app, build_fields(APPLICATION, APPLICATION_UI, data, None, []))

    reposted = MultiDict(doc.forms[0].form_values())

    assert parse_and_validate(APPLICATION, reposted).data == data


def test_plain_dict_of_lists_is_accepted_as_a_form() -> None:
    posted = {name: form().getlist(name) for name in form()}

    assert parse_submission(APPLICATION, posted).data == parse_submission(APPLICATION, form()).data


def test_empty_inputs_are_left_out_of_the_data() -> None:
    submission = parse_submission(
        APPLICATION, form(("applicant.email", "   "), ("incidents.0.people_involved", ""))
    )

    assert "email" not in submission.data["applicant"]
    assert "people_involved" not in submission.data["incidents"][0]


def test_missing_required_nested_field_is_reported_on_the_child_path() -> None:
    submission = parse_and_validate(APPLICATION, form(("applicant.name", "")))

    assert submission.errors == [FieldError(("applicant", "name"), "Enter applicant's name")]


def test_required_choice_asks_to_select() -> None:
    errors = validate(APPLICATION, {"reported": True, "declaration": True, "incidents": [{}]})

    assert messages(errors)[("incidents", 0, "behaviour_date")] == "Enter date of the behaviour"
    assert messages(errors)[("reported_to",)] == "Select who the incident was reported to"


def test_error_message_can_be_set_in_the_schema() -> None:
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "errorMessage": {"required": "Enter your full name"}}
        },
    }

    assert validate(schema, {}) == [FieldError(("name",), "Enter your full name")]


def test_text_in_a_whole_number_field_is_an_error_and_the_text_is_kept() -> None:
    submission = parse_and_validate(APPLICATION, form(("qualifying_complaints", "abc")))

    assert submission.errors == [
        FieldError(("qualifying_complaints",), "Qualifying complaints must be a whole number")
    ]
    assert "qualifying_complaints" not in submission.data
    assert submission.raw["qualifying_complaints"] == ["abc"]


def test_number_below_minimum_names_the_limit() -> None:
    submission = parse_and_validate(APPLICATION, form(("incidents.0.people_involved", "0")))

    assert messages(submission.errors) == {
        ("incidents", 0, "people_involved"): "People involved must be 1 or more"
    }


def test_impossible_date_is_an_error_and_the_parts_are_kept() -> None:
    submission = parse_and_validate(
        APPLICATION,
        form(
            ("incidents.0.behaviour_date-day", "31"),
            ("incidents.0.behaviour_date-month", "2"),
        ),
    )

    assert submission.errors == [
        FieldError(
            ("incidents", 0, "behaviour_date"), "Enter a real date for date of the behaviour"
        )
    ]
    assert submission.raw["incidents.0.behaviour_date-day"] == ["31"]
    assert submission.raw["incidents.0.behaviour_date-month"] == ["2"]


def test_date_missing_a_part_says_which_part() -> None:
    submission = parse_and_validate(APPLICATION, form(("applicant.date_of_birth-month", "")))

    assert messages(submission.errors) == {
        ("applicant", "date_of_birth"): "Date of birth must include a month"
    }


def test_month_may_be_given_as_a_name() -> None:
    submission = parse_submission(APPLICATION, form(("applicant.date_of_birth-month", "July")))

    assert submission.data["applicant"]["date_of_birth"] == "1980-07-09"


def test_unticked_declaration_is_an_error() -> None:
    submission = parse_and_validate(APPLICATION, form(without=("declaration",)))

    assert "declaration" not in submission.data
    assert submission.errors == [FieldError(("declaration",), "Confirm the declaration")]


def test_blank_repeat_rows_are_dropped_and_the_rest_renumbered() -> None:
    submission = parse_and_validate(
        APPLICATION,
        form(
            ("incidents.1.behaviour_date-day", ""),
            ("incidents.1.behaviour_date-month", ""),
            ("incidents.1.behaviour_date-year", ""),
            ("incidents.1.description", "  "),
            ("incidents.2.description", "Shouting"),
        ),
    )

    assert [row.get("description") for row in submission.data["incidents"]] == [
        "Loud music\nevery night",
        "Shouting",
    ]
    assert submission.errors == [
        FieldError(("incidents", 1, "behaviour_date"), "Enter date of the behaviour")
    ]
    assert submission.raw["incidents.1.description"] == ["Shouting"]


def test_all_repeat_rows_blank_asks_for_at_least_one() -> None:
    submission = parse_and_validate(
        APPLICATION,
        form(
            ("incidents.0.behaviour_date-day", ""),
            ("incidents.0.behaviour_date-month", ""),
            ("incidents.0.behaviour_date-year", ""),
            ("incidents.0.description", ""),
            ("incidents.0.people_involved", ""),
        ),
    )

    assert "incidents" not in submission.data
    assert messages(submission.errors) == {("incidents",): "Add at least one incident"}


def test_if_then_requires_a_field_only_when_the_condition_holds() -> None:
    reported = parse_and_validate(APPLICATION, form(without=("reported_to",)))
    not_reported = parse_and_validate(
        APPLICATION, form(("reported", "false"), without=("reported_to",))
    )

    assert reported.errors == [
        FieldError(("reported_to",), "Select who the incident was reported to")
    ]
    assert not_reported.errors == []


def test_dependent_required_is_reported_on_the_missing_field() -> None:
    schema = {
        "type": "object",
        "properties": {
            "appeal_received": {"type": "boolean", "title": "Appeal received"},
            "appeal_received_on": {"type": "string", "format": "date", "title": "Date received"},
        },
        "dependentRequired": {"appeal_received": ["appeal_received_on"]},
    }

    assert validate(schema, {"appeal_received": True}) == [
        FieldError(("appeal_received_on",), "Enter date received")
    ]


def test_errors_come_in_document_order_one_per_field() -> None:
    submission = parse_and_validate(
        APPLICATION,
        form(
            ("qualifying_complaints", "-1"),
            ("applicant.name", ""),
            ("applicant.email", "not an email"),
            without=("declaration", "reported_to"),
        ),
    )

    assert [error.path for error in submission.errors] == [
        ("applicant", "name"),
        ("applicant", "email"),
        ("reported_to",),
        ("qualifying_complaints",),
        ("declaration",),
    ]
    assert messages(submission.errors)[("applicant", "email")] == (
        "Enter email address in the correct format, like name@example.com"
    )


def test_json_submission_errors_are_mapped_to_fields() -> None:
    errors = validate(
        APPLICATION,
        {
            "applicant": {"name": "Sam", "nickname": "S"},
            "reported": "yes",
            "incidents": [{"behaviour_date": "2026-02-31", "description": "x"}],
            "qualifying_complaints": 2.5,
            "declaration": True,
        },
    )

    assert messages(errors) == {
        ("applicant", "nickname"): "nickname is not an expected field",
        ("reported",): "Select have you reported the behaviour",
        ("incidents", 0, "behaviour_date"): "Enter a real date for date of the behaviour",
        ("qualifying_complaints",): "Qualifying complaints must be a whole number",
    }


# --- building and rendering fields --------------------------------------------------------


def test_fields_follow_ui_order_and_widgets() -> None:
    fields = build_fields(APPLICATION, APPLICATION_UI, None, None, [])

    assert [(f.name, f.kind) for f in fields] == [
        ("applicant", "fieldset"),
        ("channel", "select"),
        ("reported", "radios"),
        ("reported_to", "radios"),
        ("agencies", "checkboxes"),
        ("incidents", "repeat"),
        ("qualifying_complaints", "input"),
        ("declaration", "checkboxes"),
    ]
    row = fields[5].children[0]
    assert (row.label, [(c.name, c.kind) for c in row.children]) == (
        "Incident 1",
        [
            ("incidents.0.behaviour_date", "date"),
            ("incidents.0.description", "textarea"),
            ("incidents.0.people_involved", "input"),
        ],
    )


def test_rendered_inputs_have_names_ids_and_values(app: Flask) -> None:
    data = parse_submission(APPLICATION, form()).data
    doc = render(app, build_fields(APPLICATION, APPLICATION_UI, data, None, []))

    name = doc.get_element_by_id("applicant-name")
    assert (name.get("name"), name.get("value")) == ("applicant.name", "Sam Smith")
    day = doc.get_element_by_id("incidents-0-behaviour_date-day")
    assert (day.get("name"), day.get("value")) == ("incidents.0.behaviour_date-day", "23")
    description = doc.get_element_by_id("incidents-0-description")
    assert (description.get("rows"), description.text) == ("3", "Loud music\nevery night")
    council = doc.get_element_by_id("reported_to-2")
    assert (council.get("name"), council.get("value"), council.get("checked")) == (
        "reported_to",
        "council",
        "checked",
    )
    assert doc.get_element_by_id("reported").get("value") == "true"
    ticked = [box.get("value") for box in doc.xpath("//input[@name='agencies'][@checked]")]
    assert ticked == ["police", "health"]
    assert doc.xpath("//select[@id='channel']/option[@selected]")[0].get("value") == "phone"
    assert doc.get_element_by_id("declaration").get("checked") == "checked"
    hint = doc.get_element_by_id("qualifying_complaints-hint").text_content().strip()
    assert hint == "Count complaints made in the last 6 months"


def test_rendered_errors_sit_beside_their_fields_and_keep_the_input(app: Flask) -> None:
    submission = parse_and_validate(
        APPLICATION,
        form(
            ("qualifying_complaints", "lots"),
            ("incidents.0.behaviour_date-day", "31"),
            ("incidents.0.behaviour_date-month", "2"),
            without=("declaration",),
        ),
    )
    fields = build_fields(
        APPLICATION, APPLICATION_UI, submission.data, submission.raw, submission.errors
    )
    doc = render(app, fields)

    assert doc.get_element_by_id("qualifying_complaints").get("value") == "lots"
    assert error_beside(doc, "qualifying_complaints") == (
        "Error: Qualifying complaints must be a whole number"
    )
    assert doc.get_element_by_id("incidents-0-behaviour_date-day").get("value") == "31"
    assert error_beside(doc, "incidents-0-behaviour_date-day") == (
        "Error: Enter a real date for date of the behaviour"
    )
    assert error_beside(doc, "declaration") == "Error: Confirm the declaration"


def test_error_summary_links_to_the_first_input_of_each_field() -> None:
    submission = parse_and_validate(
        APPLICATION,
        form(
            ("incidents.0.behaviour_date-day", "31"),
            ("incidents.0.behaviour_date-month", "2"),
            without=("reported_to",),
        ),
    )
    fields = build_fields(
        APPLICATION, APPLICATION_UI, submission.data, submission.raw, submission.errors
    )

    expected = [
        {"text": "Select who the incident was reported to", "href": "#reported_to"},
        {
            "text": "Enter a real date for date of the behaviour",
            "href": "#incidents-0-behaviour_date-day",
        },
    ]
    assert error_summary(fields) == expected
    assert error_summary(submission.errors, schema=APPLICATION) == expected


def test_user_input_is_escaped(app: Flask) -> None:
    evil = "<script>alert('x')</script>"
    submission = parse_and_validate(
        APPLICATION, form(("applicant.name", evil), ("incidents.0.description", evil))
    )
    fields = build_fields(APPLICATION, APPLICATION_UI, submission.data, submission.raw, [])
    with app.app_context():
        html = render_template("test_forms/page.html", fields=fields)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    doc = lxml.html.fromstring(html)
    assert doc.get_element_by_id("applicant-name").get("value") == evil
    assert doc.get_element_by_id("incidents-0-description").text == evil


def test_add_another_shows_one_more_blank_row(app: Flask) -> None:
    posted = form(("_add", "incidents"))
    submission = parse_submission(APPLICATION, posted)
    extra_rows = add_row_request(posted)
    doc = render(
        app,
        build_fields(APPLICATION, APPLICATION_UI, submission.data, submission.raw, [], extra_rows),
    )

    assert extra_rows == {"incidents": 1}
    assert doc.get_element_by_id("incidents-0-description").text == "Loud music\nevery night"
    assert doc.get_element_by_id("incidents-1-description").text in (None, "")
    assert doc.get_element_by_id("incidents-1").find("legend").text_content().strip() == (
        "Incident 2"
    )
    (button,) = doc.xpath("//button[@name='_add']")
    assert button.get("value") == "incidents"
    assert "govuk-button--secondary" in button.get("class")
    assert doc.find_class("govuk-error-message") == []


def test_blank_form_shows_min_rows_and_schema_defaults() -> None:
    schema = {
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": ["email", "letter"], "default": "email"},
            "contacts": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        },
    }
    ui = {"contacts": {"ui:options": {"minRows": 2}}}

    method, contacts = build_fields(schema, ui, None, None, [])

    assert method.value == "email"
    assert [row.name for row in contacts.children] == ["contacts.0", "contacts.1"]
    assert contacts.children[0].children[0].label == "Name"


def test_hidden_widget_renders_a_hidden_input(app: Flask) -> None:
    schema = {"type": "object", "properties": {"case_id": {"type": "string"}}}
    ui = {"case_id": {"ui:widget": "hidden"}}
    doc = render(app, build_fields(schema, ui, {"case_id": "CT-1"}, None, []))

    hidden = doc.get_element_by_id("case_id")
    assert (hidden.get("type"), hidden.get("name"), hidden.get("value")) == (
        "hidden",
        "case_id",
        "CT-1",
    )


def test_read_only_summary_shows_titles_labels_and_long_dates() -> None:
    data = parse_submission(APPLICATION, form()).data

    rows = read_only_summary(APPLICATION, APPLICATION_UI, data)

    assert [(row["key"]["text"], row["value"]["text"]) for row in rows] == [
        ("Applicant: Applicant's name", "Sam Smith"),
        ("Applicant: Email address", "sam@example.com"),
        ("Applicant: Date of birth", "9 July 1980"),
        ("How the application was made", "phone"),
        ("Have you reported the behaviour?", "Yes"),
        ("Who the incident was reported to", "The council"),
        ("Agencies involved", "Police, Health"),
        ("Incident 1: Date of the behaviour", "23 November 2026"),
        ("Incident 1: What happened", "Loud music\nevery night"),
        ("Incident 1: People involved", "3"),
        ("Qualifying complaints", "1200"),
        ("Declaration", "Yes"),
    ]


# --- package interface ----------------------------------------------------------------------


def test_package_re_exports_its_public_api() -> None:
    assert set(schema_forms.__all__) == {
        "ADD_ROW",
        "FILE_SUFFIX",
        "MISSING",
        "drop_inactive",
        "is_active",
        "Choice",
        "Field",
        "FieldError",
        "Path",
        "Schema",
        "Submission",
        "add_row_request",
        "build_fields",
        "encode_form",
        "error_summary",
        "field_id",
        "field_name",
        "parse_and_validate",
        "parse_submission",
        "read_only_summary",
        "validate",
        "walk",
    }
    assert all(hasattr(schema_forms, name) for name in schema_forms.__all__)


def test_file_widget_posts_the_file_apart_and_keeps_the_stored_token() -> None:
    """A "file" widget names its file input <name>-file; the stored document's token reads back."""
    schema = {"type": "object", "properties": {"proof": {"type": "string", "title": "Proof"}}}
    ui = {"proof": {"ui:widget": "file", "ui:options": {"accept": ".pdf"}}}
    [field] = build_fields(schema, ui, {"proof": "tok123"}, None, [])
    assert field.kind == "file" and field.value == "tok123"
    assert field.params["name"] == "proof-file" and field.params["id"] == "proof"
    assert field.params["attributes"] == {"accept": ".pdf"}
    submission = parse_and_validate(schema, MultiDict([("proof", "tok123")]))
    assert submission.data == {"proof": "tok123"}


def test_encoded_form_reads_back_to_the_same_data() -> None:
    """What a browser posts for some data is read back as that data (the project's application)."""
    import json
    from pathlib import Path

    from werkzeug.datastructures import MultiDict

    from trigger_workflow.samples import APPLICATION as SAMPLE

    forms = Path(__file__).resolve().parents[1] / "forms"
    schema = json.loads((forms / "submit_application.json").read_text())
    posted = MultiDict(schema_forms.encode_form(schema, SAMPLE))
    assert "incidents.1.behaviour_date-day" in posted
    submission = parse_and_validate(schema, posted)
    assert submission.errors == []
    assert submission.data == SAMPLE
