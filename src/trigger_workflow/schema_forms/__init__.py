"""Server-side GOV.UK forms from JSON Schema (draft 2020-12) and rjsf-style UI schemas.

A user task names a JSON Schema and, optionally, a UI schema. This package turns them into
view models for ``web/templates/form/_fields.html`` (``fields``, ``components``), reads a
posted form back into typed JSON data (``parse``), validates data with jsonschema
(``errors``, worded by ``messages``), and describes submitted data for a summary list
(``summary``). It does not import Flask.

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

A ``"ui:widget": "file"`` string is a file upload: the file input is named ``<name>-file`` and
the field's value (a token for the stored document, set by the caller) travels in a hidden input.

``parse_submission`` alone reports only what could not be read (numbers, dates);
``parse_and_validate`` adds the schema's errors, one per field, in document order.

``error_summary`` takes the fields (display order; dates link to their day box) or a list of
FieldErrors (pass ``schema=`` so dates still link to the day box).

Input names are dotted data paths (``applicant.name``, ``incidents.0.behaviour_date``); a
date's parts add ``-day``, ``-month`` and ``-year``. Element ids replace anything but letters,
digits, ``_`` and ``-`` with ``-`` (``incidents-0-behaviour_date``), so property names must
not contain ``.`` and should not end in ``-day``/``-month``/``-year``.

A question is conditional (asked only when an ``if`` holds) when a branch of that ``if`` gives it
the ``false`` schema: see ``conditions``. It is shown in GOV.UK's conditional reveal under the
choice that asks it, and its answer is dropped (never validated or kept) when it is not asked.

A schema may override error messages with the ajv-errors style keyword ``errorMessage``, for
example ``{"title": "Name", "errorMessage": {"required": "Enter the applicant's name"}}``.
"""

from trigger_workflow.schema_forms.components import FILE_SUFFIX, Field
from trigger_workflow.schema_forms.conditions import drop_inactive, is_active
from trigger_workflow.schema_forms.errors import FieldError, validate
from trigger_workflow.schema_forms.fields import build_fields, error_summary, walk
from trigger_workflow.schema_forms.inputs import ADD_ROW, encode_form, field_id, field_name
from trigger_workflow.schema_forms.parse import (
    Submission,
    add_row_request,
    parse_and_validate,
    parse_submission,
)
from trigger_workflow.schema_forms.schema import MISSING, Choice, Path, Schema
from trigger_workflow.schema_forms.summary import read_only_summary

__all__ = [
    "ADD_ROW",
    "FILE_SUFFIX",
    "MISSING",
    "Choice",
    "Field",
    "FieldError",
    "Path",
    "Schema",
    "Submission",
    "add_row_request",
    "drop_inactive",
    "build_fields",
    "encode_form",
    "error_summary",
    "field_id",
    "field_name",
    "is_active",
    "parse_and_validate",
    "parse_submission",
    "read_only_summary",
    "validate",
    "walk",
]
