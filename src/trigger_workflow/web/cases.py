"""Case pages: the list of cases, one case with its history, and applications entered by officers."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from trigger_workflow import schema_forms
from trigger_workflow.errors import NotPermitted
from trigger_workflow.services.accounts import access, authorities
from trigger_workflow.services.casework import case_list, case_page, labels, queries
from trigger_workflow.services.mail import correspondence
from trigger_workflow.services.privacy import erasures, personal_data
from trigger_workflow.services.process_owners import incidents, processes
from trigger_workflow.services.tasks import cases, escalations
from trigger_workflow.web import uploads
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.form_pages import FormState

bp = Blueprint("cases", __name__)


@bp.get("/cases")
@officer_required
def index() -> str:
    """List the cases this officer may see, newest change first, found by reference, name,
    postcode, stage, status or lateness; partners' and auditors' views of the list are logged."""
    if not access.may_list_cases(g.actor):
        raise NotPermitted("Your role does not see cases.")
    found = case_list.search_cases(
        get_session(),
        case_list.CaseSearch.from_args(request.args),
        visible=[access.visible_cases(g.actor)],
    )
    access.view_cases(get_session(), g.actor, [row.case for row in found.rows], "case list")
    return render_template("cases/index.html", found=found, statuses=case_list.STATUSES)


@bp.get("/cases/<reference>")
@officer_required
def show(reference: str) -> str:
    """Show a case: summary, stages, open tasks with owners, history, letters and diagrams."""
    overview = case_page.open_case(get_session(), reference, g.actor)
    page = overview.page
    history = [
        {
            "event": entry.event,
            "title": _title(entry.event.kind, entry.title, entry.event.detail),
            "rows": schema_forms.read_only_summary(entry.schema, entry.ui_schema, entry.data)
            if entry.data
            else [],
            "withheld": entry.withheld,
        }
        for entry in page.history(g.actor)
    ]
    # Everyone who sees the case sees why it is held; process owners follow the link to act.
    held = incidents.of_case(get_session(), page.case.id)
    deployed = processes.deployed(page.case.process_version)
    return render_template(
        "cases/case.html",
        page=page,
        titles=escalations.titles(
            get_session(), [(t, page.case.reference) for t in page.open_tasks]
        ),
        channel=labels.choice_labels(deployed).get("channel", {}).get(page.case.channel or ""),
        position=overview.position,
        stalled=overview.stalled,
        history=history,
        correspondence=correspondence.for_case(get_session(), page.case),
        incidents=held,
        erasures=erasures.of_case(get_session(), page.case.id),
        subject_names=personal_data.SUBJECT_NAMES,
    )


CLAIM_TITLES = {
    "task_claimed": "Claimed by {to}: {task}",
    "task_released": "Released by {from}: {task}",
    "task_reassigned": "Reassigned from {from} to {to}: {task}",
}


def _title(kind: str, title: str, detail: dict[str, Any]) -> str:
    """Title a claim, release or reassignment by who it moved between."""
    if kind not in CLAIM_TITLES:
        return title
    names = {"from": detail.get("from") or "nobody", "to": detail.get("to") or "nobody"}
    return CLAIM_TITLES[kind].format(task=title, **names)


@bp.route("/cases/new", methods=["GET", "POST"])
@officer_required
def new_application() -> Any:
    """Enter an application received by phone, letter, email or in person (R2)."""
    if not cases.may_enter_applications(g.actor):
        raise NotPermitted("Only the case review coordinator enters applications for others.")
    schema, ui_schema = queries.application_form(get_session())
    choices = authorities.choices_for(get_session(), g.actor)
    form = FormState(*_with_authority(*_with_date_received(schema, ui_schema), choices))
    key = request.form.get("submission_key") or secrets.token_urlsafe(16)
    upload_errors = uploads.receive_files(form, g.actor) if request.method == "POST" else []
    if request.method == "POST" and form.read_post() and not (form.errors or upload_errors):
        received_on = date.fromisoformat(form.data.pop(RECEIVED_ON))
        chosen = authorities.by_code(choices, form.data.pop(AUTHORITY, None))
        result = form.submit(
            lambda data: cases.submit_application(
                get_session(), cases.SubmitApplication(data, g.actor, key, received_on, chosen)
            )
        )
        if result is not None:
            flash(f"Application entered as case {result.reference}.")
            return redirect(url_for("cases.show", reference=result.reference))
    form.errors += upload_errors
    return form.render(
        "public/apply.html",
        heading="Enter an application",
        submit_text="Save application",
        hidden={"submission_key": key},
    )


RECEIVED_ON = "received_on"
AUTHORITY = "authority"


def _with_authority(
    schema: dict[str, Any], ui_schema: dict[str, Any], choices: list[tuple[str, str, int]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask which council the application is for, when the officer serves more than one."""
    if len(choices) < 2:
        return schema, ui_schema
    question = {
        "type": "string",
        "title": "Which council is the application for?",
        "description": "The council for the area where the behaviour happens.",
        "oneOf": [{"const": code, "title": name} for code, name, _ in choices],
    }
    schema = dict(schema, properties={AUTHORITY: question, **schema.get("properties", {})})
    schema["required"] = [AUTHORITY, *schema.get("required", [])]
    ui = dict(ui_schema)
    ui[AUTHORITY] = {"ui:widget": "radio"}
    if "ui:order" in ui:
        ui["ui:order"] = [AUTHORITY, *ui["ui:order"]]
    return schema, ui


def _with_date_received(
    schema: dict[str, Any], ui_schema: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask officers when the application arrived: deadlines count from then (R5)."""
    question = {
        "type": "string",
        "format": "date",
        "title": "Date the application was received",
        "description": "Deadlines count from this day, not from the day it is entered.",
    }
    schema = dict(schema, properties={RECEIVED_ON: question, **schema.get("properties", {})})
    schema["required"] = [RECEIVED_ON, *schema.get("required", [])]
    ui = dict(ui_schema or {})
    if "ui:order" in ui:
        ui["ui:order"] = [RECEIVED_ON, *ui["ui:order"]]
    return schema, ui
