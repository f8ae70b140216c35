"""The shapes /api/v1 takes and gives, as marshmallow schemas (documented in the OpenAPI spec)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

NAME = validate.Length(max=100)


class Query(Schema):
    """Query parameters: one this operation does not know is refused (400), not ignored."""

    class Meta:
        unknown = RAISE


class Body(Schema):
    """A JSON body: a field this operation does not know is refused."""

    class Meta:
        unknown = RAISE


class ProblemError(Schema):
    field = fields.String(metadata={"description": "The field, e.g. 'data.incidents'."})
    message = fields.String(required=True)


class Problem(Schema):
    """An error, as RFC 9457 problem details."""

    type = fields.String(
        required=True, metadata={"example": "urn:trigger-workflow:problem:invalid"}
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(ProblemError), required=True)


# Cases
class CaseQuery(Query):
    q = fields.String(
        load_default="", validate=NAME,
        metadata={"description": "A reference, or words of the applicant's name or postcode."},
    )  # fmt: skip
    stage = fields.String(load_default="", validate=NAME)
    status = fields.String(load_default="", validate=validate.OneOf(["", "open", "closed"]))
    overdue = fields.Boolean(
        load_default=False, metadata={"description": "Only cases with an overdue task."}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))


class CaseSummary(Schema):
    reference = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    received_on = fields.Date(required=True)
    updated_at = fields.AwareDateTime(required=True)
    overdue = fields.Boolean(required=True)


class CaseListPage(Schema):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class OpenTask(Schema):
    id = fields.String(required=True)
    reference = fields.String(required=True)
    task = fields.String(required=True, metadata={"description": "The task's id in the diagram."})
    name = fields.String(required=True)
    stage = fields.String(required=True)
    role = fields.String(required=True)
    agency = fields.String(required=True, allow_none=True)
    due_on = fields.Date(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)


class CaseEvent(Schema):
    seq = fields.Integer(required=True)
    kind = fields.String(required=True)
    actor = fields.String(required=True)
    task = fields.String(required=True, allow_none=True)
    data = fields.Dict(
        required=True,
        metadata={"description": "What was entered, less the agencies' answers this client may not read (R22)."},
    )  # fmt: skip
    answers_withheld = fields.List(
        fields.String(), required=True,
        metadata={"description": "Agencies whose answers in this event are kept from this client."},
    )  # fmt: skip
    at = fields.AwareDateTime(required=True)


class CaseDetail(Schema):
    reference = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    received_on = fields.Date(required=True)
    shared_with = fields.List(fields.String(), required=True)
    open_tasks = fields.List(fields.Nested(OpenTask), required=True)
    events = fields.List(fields.Nested(CaseEvent), required=True)


class Letter(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True, metadata={"description": "email or print"})
    status = fields.String(required=True, metadata={"description": "In words, e.g. 'Sent'."})
    detail = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class CaseLetters(Schema):
    reference = fields.String(required=True)
    letters = fields.List(fields.Nested(Letter), required=True)


# Tasks
class TaskQuery(Query):
    view = fields.String(
        load_default="team", validate=validate.OneOf(["team", "mine", "unclaimed"])
    )
    stage = fields.String(load_default="", validate=NAME)
    due = fields.String(load_default="", validate=validate.OneOf(["", "overdue", "soon"]))
    case = fields.String(load_default="", validate=validate.Length(max=20))
    sort = fields.String(
        load_default="due", validate=validate.OneOf(["due", "-due", "case", "stage"])
    )
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))


class TaskListPage(Schema):
    items = fields.List(fields.Nested(OpenTask), required=True)
    page = fields.Integer(required=True)
    more = fields.Boolean(required=True, metadata={"description": "Whether a next page follows."})


class Completion(Body):
    data = fields.Dict(required=True, metadata={"description": "The task form's answers."})


class CaseResult(Schema):
    reference = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    open_tasks = fields.List(fields.String(), required=True, metadata={"description": "Names."})
    incident = fields.String(
        required=True, allow_none=True,
        metadata={"description": "Why the case is held for a process owner, when it is."},
    )  # fmt: skip


class Claim(Schema):
    reference = fields.String(required=True)
    task = fields.String(required=True, metadata={"description": "The task's name."})
    assignee = fields.String(required=True, allow_none=True)


class Application(Body):
    data = fields.Dict(required=True, metadata={"description": "The application form's answers."})
    received_on = fields.Date(
        load_default=None,
        metadata={"description": "When the council received it (deadlines count from then)."},
    )
    submission_key = fields.String(
        load_default=None, validate=validate.Length(1, 64),
        metadata={"description": "Sent again with a retry, it gives back the first case, not a second."},
    )  # fmt: skip
    authority = fields.String(
        load_default=None, validate=validate.Length(1, 40),
        metadata={"description": "The council's short name (see /admin/authorities), where the "
                  "client serves several; by default its own, or the only one."},
    )  # fmt: skip


class Applied(Schema):
    reference = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)


# Figures
class FiguresQuery(Query):
    start = fields.Date(
        load_default=None,
        metadata={"description": "First day of the 12 months (default: this financial year)."},
    )
    authority = fields.String(
        load_default=None, validate=validate.Length(1, 40),
        metadata={"description": "One council's short name (default: every council served)."},
    )  # fmt: skip


class StepFigure(Schema):
    task = fields.String(required=True)
    name = fields.String(required=True)
    timescale_days = fields.Integer(required=True)
    done = fields.Integer(required=True)
    within = fields.Integer(required=True)
    median_working_days = fields.Float(required=True, allow_none=True)


class Figures(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    cases = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    steps = fields.List(fields.Nested(StepFigure), required=True)
