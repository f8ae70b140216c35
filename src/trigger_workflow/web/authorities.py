"""Administrators' pages for authorities: the councils this service runs the trigger for.

A county-wide administrator adds authorities and changes any; an authority's own administrator
changes only theirs (its heading, local threshold, timescales, agencies and process version).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from trigger_workflow.errors import NotPermitted, TriggerWorkflowError
from trigger_workflow.services.accounts import authorities
from trigger_workflow.services.accounts.actors import ADMINISTRATOR, AGENCIES
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Authority, ProcessVersion
from trigger_workflow.web.acting import role_required
from trigger_workflow.web.database import get_session

bp = Blueprint("authorities", __name__, url_prefix="/admin/authorities")
FOLLOW = ""  # a blank answer: follow the county


@bp.route("", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def index() -> tuple[str, int] | Response:
    """List the authorities this administrator serves; a county-wide one may add an authority."""
    if request.method == "POST":
        if g.actor.authorities is not None:
            raise NotPermitted("Only a county-wide administrator may add an authority.")
        try:
            details = _posted()
            authority = authorities.save(get_session(), details)
        except TriggerWorkflowError as error:
            get_session().rollback()
            return _edit_page(None, error.message, request.form), 422
        flash(f"Added {authority.name}, with references {authority.reference_prefix}-….")
        return redirect(url_for("authorities.show", code=authority.code))
    listed = [a for a in authorities.all_authorities(get_session()) if _serves(a)]
    return render_template(
        "admin/authorities.html",
        listed=listed,
        may_add=g.actor.authorities is None,
        summaries={a.id: authorities.settings_summary(a) for a in listed},
    ), 200


@bp.get("/new")
@role_required(ADMINISTRATOR)
def new() -> str:
    """Show the form for a new authority."""
    if g.actor.authorities is not None:
        raise NotPermitted("Only a county-wide administrator may add an authority.")
    return _edit_page(None, None, {})


@bp.route("/<code>", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def show(code: str) -> tuple[str, int] | str | Response:
    """Show an authority's details, or change them."""
    authority = _authority(code)
    if request.method == "POST":
        try:
            authorities.save(get_session(), _posted(), existing=code)
        except TriggerWorkflowError as error:
            get_session().rollback()
            return _edit_page(authority, error.message, request.form), 422
        flash(f"Saved {authority.name}.")
        return redirect(url_for("authorities.show", code=authority.code))
    return _edit_page(authority, None, _values(authority))


def _authority(code: str) -> Authority:
    """Return the authority if this administrator serves it; another's is not there (404)."""
    authority = next(
        (a for a in authorities.all_authorities(get_session()) if a.code == code), None
    )
    if authority is None or not _serves(authority):
        abort(404)
    return authority


def _serves(authority: Authority) -> bool:
    return g.actor.authorities is None or authority.id in g.actor.authorities


def _number(name: str, label: str) -> int | None:
    text = request.form.get(name, "").strip()
    if text == FOLLOW:
        return None
    try:
        return int(text)
    except ValueError:
        raise TriggerWorkflowError(f"{label} must be a whole number, or left blank.") from None


def _posted() -> authorities.AuthorityDetails:
    form = request.form
    timescales = {}
    for task in _timescale_tasks():
        days = _number(f"timescale-{task}", f"The timescale for {task.replace('_', ' ')}")
        if days is not None:
            timescales[task] = days
    agencies = None if form.get("agencies_follow") == "yes" else form.getlist("agencies")
    return authorities.AuthorityDetails(
        code=form.get("code", "").strip(),
        name=form.get("name", ""),
        reference_prefix=form.get("reference_prefix", "").strip().upper(),
        address=form.get("address", ""),
        email=form.get("email", ""),
        phone=form.get("phone", ""),
        logo_file=form.get("logo_file", "").strip() or None,
        threshold_number=_number("threshold_number", "The local threshold"),
        threshold_window_months=_number("threshold_window_months", "The threshold window"),
        timescales=timescales,
        agencies=agencies,
        process_version=_number("process_version", "The process version"),
        retention_years=_number("retention_years", "The years closed cases are kept"),
    )


def _values(authority: Authority) -> dict[str, Any]:
    details = authorities.details_of(authority, get_session())
    values: dict[str, Any] = {
        key: "" if value is None else value
        for key, value in vars(details).items()
        if key not in ("timescales", "agencies")
    }
    for task, days in details.timescales.items():
        values[f"timescale-{task}"] = days
    values["agencies_follow"] = "yes" if details.agencies is None else "no"
    values["agencies"] = details.agencies or []
    return values


def _timescale_tasks() -> dict[str, str]:
    """Return the county's timescales, by task: what a blank local timescale follows."""
    deployed = processes.deployed(processes.latest_version(get_session()))
    return {
        task: f"{deployed.user_tasks[task].name}: county {timescale.days} working days"
        for task, timescale in deployed.timescales.items()
        if task in deployed.user_tasks
    }


def _table_reads(authority: Authority | None) -> dict[str, Any]:
    """Say which process version the council's new cases run, and whether its threshold table
    reads the council's own number and window (a literal one applies to every council)."""
    session = get_session()
    version = None
    if authority is not None and authority.process_version_id is not None:
        version = session.get(ProcessVersion, authority.process_version_id)
    version = version or processes.latest_version(session)
    number, window = processes.reads_local_rules(version)
    return {"version": version.number, "number": number, "window": window}


def _edit_page(authority: Authority | None, error: str | None, values: Any) -> str:
    getlist = getattr(values, "getlist", None)
    chosen = getlist("agencies") if getlist else values.get("agencies", [])
    versions = authorities.version_numbers(get_session())
    return render_template(
        "admin/authority.html",
        authority=authority,
        error=error,
        values=values,
        chosen_agencies=chosen,
        all_agencies=AGENCIES,
        timescale_tasks=_timescale_tasks(),
        table_reads=_table_reads(authority),
        versions=versions,
        summary=authorities.settings_summary(authority) if authority else None,
        retention_default=current_app.extensions["trigger_workflow.settings"].retention_years,
    )
