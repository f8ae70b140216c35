"""Render JSON Schema forms as GOV.UK pages and read their submissions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import render_template, request

from trigger_workflow import schema_forms
from trigger_workflow.errors import FormInvalid

T = TypeVar("T")


@dataclass
class FormState:
    """A form being filled in: its schema, what was entered, and what is wrong."""

    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] | None = None
    errors: list[Any] = field(default_factory=list)
    extra_rows: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    describe_file: Callable[[str], str | None] | None = None

    def read_post(self) -> bool:
        """Read the posted form; return True when the person asked to submit it."""
        posted = request.form.copy()
        for name, value in self.fixed.items():
            posted[name] = value  # set by the server, whatever the browser sent
        submission = schema_forms.parse_and_validate(self.schema, posted)
        self.data, self.raw, self.errors = submission.data, submission.raw, list(submission.errors)
        extra = schema_forms.add_row_request(request.form)
        if extra:
            self.extra_rows = extra
            self.errors = []
            return False
        return True

    def submit(self, action: Callable[[dict[str, Any]], T]) -> T | None:
        """Hand the answers to a service; if it refuses them, show why beside the fields."""
        try:
            return action(self.data)
        except FormInvalid as error:
            self.errors = [
                schema_forms.FieldError(tuple(p.path), p.message) for p in error.problems
            ]
            return None

    def render(self, template: str, status: int = 200, **context: Any) -> tuple[str, int]:
        """Render the page with its fields and, when there are errors, the error summary."""
        fields = schema_forms.build_fields(
            self.schema, self.ui_schema, self.data, self.raw, self.errors, self.extra_rows
        )
        if self.describe_file is not None:
            for f in schema_forms.walk(fields):
                if f.kind == "file" and f.value:
                    f.options["uploaded_name"] = self.describe_file(f.value)
        _focus_new_rows(fields, self.extra_rows)
        summary = schema_forms.error_summary(fields) if self.errors else []
        if self.errors and status == 200:
            status = 422
        return render_template(template, fields=fields, summary=summary, **context), status


def _focus_new_rows(fields: list[schema_forms.Field], extra_rows: dict[str, int]) -> None:
    """Focus the first question of a row just added with "Add another" when the page loads."""
    for f in schema_forms.walk(fields):
        if f.kind == "repeat" and f.name in extra_rows and f.children:
            first = f.children[-1]
            while first.kind in ("fieldset", "repeat") and first.children:
                first = first.children[0]
            first.options["autofocus"] = True
