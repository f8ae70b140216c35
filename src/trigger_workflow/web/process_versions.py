"""Process owners' pages: versions, differences, diagrams, editing and deploying, moving cases."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trigger_workflow.errors import DiagramError, DiagramProblem, NotFound
from trigger_workflow.services.accounts import authorities
from trigger_workflow.services.process_owners import case_migration, versions
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session

bp = Blueprint("process_versions", __name__)


@bp.before_request
def only_process_owners() -> None:
    """Refuse every page here to anyone but a process owner (others are sent to sign in first)."""
    if g.get("actor") is not None:
        versions.require_process_owner(g.actor)


@bp.get("/processes")
@officer_required
def index() -> str:
    """List the versions: who deployed what and when, and what changed in each."""
    session = get_session()
    return render_template(
        "processes/index.html",
        summaries=versions.list_versions(session, actor=g.actor),
        deployments=versions.deployments(session),
        councils=[name for _, name, _ in authorities.choices_for(session, g.actor)]
        if versions.deploying_for(session, g.actor) is not None
        else None,
    )


@bp.get("/processes/<int:number>")
@officer_required
def show(number: int) -> str:
    """Show one version: its files and its difference from the version before."""
    return render_template(
        "processes/version.html",
        detail=versions.version_detail(get_session(), number, actor=g.actor),
    )


@bp.get("/processes/<int:number>/files/<path:name>")
@officer_required
def file(number: int, name: str) -> str:
    """Show one file of a version: a diagram drawn, a decision table's rules, or the text."""
    detail = versions.version_detail(get_session(), number, actor=g.actor)
    text = detail.files.files.get(name)
    if text is None:
        raise NotFound(f"Version {number} has no file '{name}'.")
    rules = versions.decision_rules(detail.files, name) if name.endswith(".dmn") else []
    return render_template("processes/file.html", detail=detail, name=name, text=text, rules=rules)


@bp.route("/processes/<int:number>/edit/<path:name>", methods=["GET", "POST"])
@officer_required
def edit(number: int, name: str) -> Any:
    """Edit one file of a version, check it as deploy does, and deploy it as a new version."""
    session = get_session()
    text = versions.file_text(session, number, name)
    problems: list[DiagramProblem] = []
    checked = False
    if request.method == "POST":
        text = request.form.get("content", "")
        try:
            files = versions.edited_files(session, number, name, text)
            if request.form.get("action") == "deploy":
                result = versions.deploy_edit(session, files, g.actor)
                flash(_deployed_message(result))
                return redirect(url_for(".show", number=result.version.number))
            versions.validate(files)
            checked = True
        except DiagramError as error:
            problems = error.problems
    page = render_template(
        "processes/edit.html",
        number=number,
        name=name,
        text=text,
        problems=problems,
        checked=checked,
        marked=sorted({p.element_id for p in problems if p.element_id and p.file == name}),
    )
    return (page, 422) if problems else page


@bp.post("/processes/<int:number>/rollback")
@officer_required
def rollback(number: int) -> Response:
    """Make this version the one new cases take."""
    result = versions.rollback(get_session(), number, g.actor)
    if result.made_current:
        flash(f"New cases now take version {number}. Running cases stay where they are.")
    else:
        flash(f"Version {number} is already the one new cases take.")
    return redirect(url_for(".index"))


@bp.route("/processes/migrate", methods=["GET", "POST"])
@officer_required
def migrate() -> str:
    """List the open cases of a version that can move to another (dry run), or move them."""
    source = request.values.get("from", type=int)
    target = request.values.get("to", type=int)
    # One council's cases, or (blank) those of every council the process owner serves.
    choices = authorities.choices_for(get_session(), g.actor)
    chosen = request.values.get("authority", "")
    if chosen and authorities.by_code(choices, chosen) is None:
        raise NotFound(f"There is no authority '{chosen}'.")
    report = None
    if source is not None and target is not None:
        command = case_migration.MigrateCases(
            source,
            target,
            g.actor,
            dry_run=request.method != "POST",
            authority_id=authorities.by_code(choices, chosen) if chosen else None,
        )
        report = case_migration.migrate_cases(get_session(), command)
    summaries = versions.list_versions(get_session(), actor=g.actor)
    return render_template(
        "processes/migrate.html",
        report=report,
        summaries=summaries,
        source=source,
        target=target,
        choices=choices,
        chosen=chosen,
    )


def _deployed_message(result: Any) -> str:
    number = result.version.number
    if result.created:
        return f"Deployed as version {number}: new cases take it."
    if result.made_current:
        return f"This is the content of version {number}: new cases take version {number} again."
    return f"Nothing changed: version {number} is already deployed and current."
