"""/api/v1's operations: each a thin call into the same services the pages use, with the same
access rules (services/accounts/access.py) and the same validation."""

from __future__ import annotations

from typing import Any

from flask import current_app, g

from trigger_workflow.errors import FieldProblem, FormInvalid, NotPermitted
from trigger_workflow.services.accounts import access, authorities
from trigger_workflow.services.audit import figures as statutory
from trigger_workflow.services.casework import case_list, queries
from trigger_workflow.services.mail import correspondence
from trigger_workflow.services.tasks import cases, claims
from trigger_workflow.services.tasks import inbox as inbox_service
from trigger_workflow.store.models import Case, OpenTask
from trigger_workflow.web.api_v1 import openapi
from trigger_workflow.web.api_v1 import schemas as s
from trigger_workflow.web.api_v1.blueprint import bp
from trigger_workflow.web.api_v1.operations import operation
from trigger_workflow.web.database import get_session

TASK_ERRORS = (400, 401, 403, 404, 409, 422)


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document() -> Any:
    """The OpenAPI 3.1 document of this API, made from the code."""
    return openapi.document(current_app)


@bp.get("/cases")
@operation(
    summary="List the cases this client may see, newest change first (25 a page)",
    tag="cases", query=s.CaseQuery, response=s.CaseListPage(), errors=(400, 401, 403),
)  # fmt: skip
def list_cases(query: dict[str, Any]) -> dict[str, Any]:
    if not access.may_list_cases(g.actor):
        raise NotPermitted("This client's role does not see cases.")
    search = case_list.CaseSearch(
        text=" ".join(query["q"].split()), stage=query["stage"].strip(), status=query["status"],
        overdue=query["overdue"], page=query["page"],
    )  # fmt: skip
    found = case_list.search_cases(get_session(), search, visible=[access.visible_cases(g.actor)])
    access.view_cases(get_session(), g.actor, [row.case for row in found.rows], "API case list")
    items = [
        {
            "reference": row.case.reference, "status": row.case.status, "stage": row.case.stage,
            "outcome": row.case.outcome, "received_on": row.case.received_on,
            "updated_at": row.case.updated_at, "overdue": row.overdue,
        }
        for row in found.rows
    ]  # fmt: skip
    return {"items": items, "total": found.total, "page": search.page, "pages": found.pages}


@bp.get("/cases/<reference>")
@operation(
    summary="Read a case: its stage, open tasks and history",
    description="The agencies' answers this client may not read are taken out of the events, "
    "and the agencies whose answers were withheld are named (R22). A case not shared with a "
    "partner agency's client is not found (404). Each read is logged for auditors.",
    tag="cases", response=s.CaseDetail(), errors=(400, 401, 403, 404),
)  # fmt: skip
def read_case(reference: str) -> dict[str, Any]:
    page = queries.case_page(get_session(), reference)
    access.view_case(get_session(), g.actor, page.case, "API case")
    events = []
    for event in page.events:
        readable = page.readable(g.actor, event)
        events.append(
            {
                "seq": event.seq, "kind": event.kind, "actor": event.actor,
                "task": event.task_spec, "data": readable.data,
                "answers_withheld": readable.withheld, "at": event.occurred_at,
            }
        )  # fmt: skip
    case = page.case
    return {
        "reference": case.reference, "status": case.status, "stage": case.stage,
        "outcome": case.outcome, "received_on": case.received_on,
        "shared_with": access.shared_with(get_session(), case),
        "open_tasks": [_task(t, case.reference) for t in page.open_tasks], "events": events,
    }  # fmt: skip


@bp.get("/cases/<reference>/letters")
@operation(
    summary="Read the status of a case's letters: how each goes out and whether it has",
    tag="cases", response=s.CaseLetters(), errors=(400, 401, 403, 404),
)  # fmt: skip
def case_letters(reference: str) -> dict[str, Any]:
    case = access.case_for(get_session(), g.actor, reference)
    access.view_case(get_session(), g.actor, case, "API letters")
    letters = [
        {
            "id": row.letter.id, "kind": row.letter.kind, "channel": row.channel,
            "status": row.status, "detail": row.detail, "created_at": row.letter.created_at,
        }
        for row in correspondence.for_case(get_session(), case).letters
    ]  # fmt: skip
    return {"reference": case.reference, "letters": letters}


@bp.post("/cases/<reference>/tasks/<task_id>/complete")
@operation(
    summary="Complete a task with its form's answers",
    description="The answers are checked against the task's form and the law's rules, as on the "
    "task's page; nothing changes unless all of them pass (422 says which field is wrong). A "
    "task already completed answers 409.",
    tag="tasks", body=s.Completion, response=s.CaseResult(), errors=TASK_ERRORS,
)  # fmt: skip
def complete_task(reference: str, task_id: str, body: dict[str, Any]) -> cases.CaseResult:
    access.case_for(get_session(), g.actor, reference)
    return cases.complete_task(
        get_session(), cases.CompleteTask(reference, task_id, body["data"], g.actor)
    )


@bp.get("/tasks")
@operation(
    summary="List the tasks offered to this client's role and agency, soonest due first",
    tag="tasks", query=s.TaskQuery, response=s.TaskListPage(), errors=(400, 401),
)  # fmt: skip
def list_tasks(query: dict[str, Any]) -> dict[str, Any]:
    wanted = inbox_service.InboxQuery(
        view=query["view"], stage=query["stage"].strip(), due=query["due"],
        reference=query["case"].strip().upper(), sort=query["sort"], limit=50, page=query["page"],
    )  # fmt: skip
    found = inbox_service.inbox(get_session(), g.actor, wanted)
    return {
        "items": [_task(row.task, row.reference) for row in found.rows],
        "page": wanted.page,
        "more": found.more,
    }


@bp.post("/tasks/<task_id>/claim")
@operation(
    summary="Claim a task offered to this client (409 if someone else has it)",
    tag="tasks", response=s.Claim(), errors=(400, 401, 403, 404, 409),
)  # fmt: skip
def claim(task_id: str) -> dict[str, Any]:
    result = claims.claim(get_session(), claims.ClaimTask(task_id, g.actor))
    return {"reference": result.reference, "task": result.task_name, "assignee": result.assignee}


@bp.post("/tasks/<task_id>/release")
@operation(
    summary="Give back a task this client holds",
    tag="tasks", response=s.Claim(), errors=(400, 401, 403, 404, 409),
)  # fmt: skip
def release(task_id: str) -> dict[str, Any]:
    result = claims.release(get_session(), claims.ReleaseTask(task_id, g.actor))
    return {"reference": result.reference, "task": result.task_name, "assignee": result.assignee}


@bp.post("/applications")
@operation(
    summary="Enter an application received by phone, letter, email or in person (R2)",
    description="The same checks as the application form (R1), with errors by field (422). "
    "Only a coordinator's client may enter applications.",
    tag="cases", body=s.Application, response=s.Applied(), status=201,
    errors=(400, 401, 403, 409, 422),
)  # fmt: skip
def apply(body: dict[str, Any]) -> cases.CaseResult:
    authority = _authority_id(body["authority"])
    command = cases.SubmitApplication(
        body["data"], g.actor, body["submission_key"], body["received_on"], authority
    )
    return cases.submit_application(get_session(), command)


@bp.get("/figures")
@operation(
    summary="Read the statutory figures (R20) for 12 months, and the cases behind each",
    description="Of the councils the client serves, or of one (`authority`, its short name).",
    tag="figures", query=s.FiguresQuery, response=s.Figures(), errors=(400, 401, 403, 422),
)  # fmt: skip
def figures(query: dict[str, Any]) -> dict[str, Any]:
    if g.actor.role != "auditor":
        raise NotPermitted("Only an auditor's client reads the statutory figures.")
    start = query["start"]
    period = statutory.Period.starting(start) if start else statutory.Period.parse(None)
    scope = access.in_authorities(g.actor)
    chosen = _authority_id(query["authority"])
    if chosen is not None:
        scope = scope & (Case.authority_id == chosen)
    result = statutory.figures(get_session(), period, scope)
    return {
        "start": period.start, "end": period.end,
        "counts": {key: len(refs) for key, refs in result.cases.items()}, "cases": result.cases,
        "steps": [
            {
                "task": step.task, "name": step.name, "timescale_days": step.timescale_days,
                "done": step.done, "within": step.within, "median_working_days": step.median_days,
            }
            for step in result.steps
        ],
    }  # fmt: skip


def _task(task: OpenTask, reference: str) -> dict[str, Any]:
    return {
        "id": task.id, "reference": reference, "task": task.task_spec, "name": task.name,
        "stage": task.stage, "role": task.role, "agency": task.agency, "due_on": task.due_on,
        "assignee": task.assignee,
    }  # fmt: skip


def _authority_id(code: str | None) -> int | None:
    """Return the id of the council this client named, among those it serves (None: not named)."""
    if not code:
        return None
    found = authorities.by_code(authorities.choices_for(get_session(), g.actor), code)
    if found is None:
        problem = FieldProblem(
            ("authority",), "Give the short name of a council this client serves"
        )
        raise FormInvalid([problem])
    return found
