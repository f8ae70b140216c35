"""Auditors' pages: case timelines step by step, exports, and the statutory figures (R20, R21)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, render_template, request
from sqlalchemy import ColumnElement

from trigger_workflow import pdf, schema_forms
from trigger_workflow.errors import NotFound
from trigger_workflow.services.accounts import access, authorities
from trigger_workflow.services.audit import definitions, figure_charts, figures, history, report
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.store.models import Case
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session

bp = Blueprint("audit", __name__, url_prefix="/audit")


# The figures and the year's report are read by coordinators and the OPCC too (figures.py says who).
FIGURE_PAGES = frozenset(
    {"audit.figures_page", "audit.figures_csv", "audit.report_page", "audit.report_pdf"}
)


@bp.before_request
@officer_required
def auditors_only() -> None:
    """Refuse every page here to anyone but an auditor (403), but the figures' pages."""
    if request.endpoint in FIGURE_PAGES:
        figures.ensure_may_read(g.actor)
    elif request.endpoint == "audit.figure_cases":
        figures.ensure_may_read(g.actor, cases=True)
    else:
        history.ensure_auditor(g.actor)


@bp.get("/")
def index() -> str:
    """List recent cases and link to the statutory figures."""
    cases = history.recent_cases(get_session(), g.actor)
    return render_template("audit/index.html", cases=cases)


@bp.get("/cases/<reference>")
def case(reference: str) -> str:
    """Show a case's timeline at one event: who, when, what they saw and sent, the diagrams."""
    seq = request.args.get("event", default=1, type=int)
    found = history.case_history(get_session(), reference, g.actor, f"audit timeline, event {seq}")
    step = history.timeline_step(found, seq)
    form = found.forms.get(step.event.task_spec or "")
    data = personal_data.readable(step.event.data)  # erased values read "[erased]"
    rows = schema_forms.read_only_summary(*form, data) if form and data else []
    return render_template("audit/case.html", history=found, step=step, submitted=rows)


@bp.get("/cases/<reference>/history.json")
def export_json(reference: str) -> Response:
    """Download a case's full history as JSON."""
    found = history.case_history(get_session(), reference, g.actor, "export JSON")
    return _download(history.history_json(found), "application/json", f"{reference}-history.json")


@bp.get("/cases/<reference>/history.csv")
def export_csv(reference: str) -> Response:
    """Download a case's events as CSV."""
    found = history.case_history(get_session(), reference, g.actor, "export CSV")
    return _download(history.history_csv(found), "text/csv", f"{reference}-history.csv")


@bp.get("/cases/<reference>/history.pdf")
def export_pdf(reference: str) -> Response:
    """Download a printable PDF of a case's history, for a file or a court bundle."""
    found = history.case_history(get_session(), reference, g.actor, "export PDF")
    entries = [(event, _summary(found, event.task_spec, event.data)) for event in found.events]
    html = render_template("audit/history_pdf.html", history=found, entries=entries)
    return _download(pdf.html_to_pdf(html), "application/pdf", f"{reference}-history.pdf")


@bp.get("/figures")
def figures_page() -> str:
    """Show the statutory figures (R20) for a 12-month period, the financial year by default:
    of one authority (``?authority=code``), or of every authority the auditor serves."""
    chosen, choices = _authority_chosen()
    result = _figures()
    return render_template(
        "audit/figures.html",
        result=result,
        charts=figure_charts.charts(result),
        share_text=figure_charts.share_text,
        definitions=definitions,
        chosen=chosen,
        choices=choices,
        with_cases=figures.may_read_cases(g.actor),
    )


@bp.get("/report")
def report_page() -> str:
    """Show the year's report of the figures, ready to publish (and to print): of one authority,
    or the roll-up of the auditor's authorities with each one's figures."""
    chosen, _ = _authority_chosen()
    return render_template("audit/report.html", chosen=chosen, **_report())


@bp.get("/report.pdf")
def report_pdf() -> Response:
    """Download the year's report as a PDF."""
    chosen, _ = _authority_chosen()
    found = _report()
    html = render_template("audit/report_pdf.html", **found)
    name = f"community-trigger-report-{chosen + '-' if chosen else ''}"
    name += f"{found['report'].figures.period.start.isoformat()}.pdf"
    return _download(pdf.html_to_pdf(html), "application/pdf", name)


def _report() -> dict[str, Any]:
    """Return the year's report for the period and authority asked, and what its page needs."""
    chosen, choices = _authority_chosen()
    covered = [c for c in choices if c[0] == chosen] if chosen else choices
    period = figures.Period.parse(request.args.get("start"))
    found = report.year_report(get_session(), period, _scope(), covered)
    return {"report": found, "definitions": definitions, "share_text": figure_charts.share_text}


@bp.get("/figures.csv")
def figures_csv() -> Response:
    """Download the statutory figures as CSV."""
    result = _figures()
    chosen, _ = _authority_chosen()
    name = f"community-trigger-figures-{chosen + '-' if chosen else ''}"
    name += f"{result.period.start.isoformat()}.csv"
    csv_text = figures.figures_csv(result, with_cases=figures.may_read_cases(g.actor))
    return _download(csv_text, "text/csv", name)


def _authority_chosen() -> tuple[str, list[tuple[str, str, int]]]:
    """Return the authority the figures are for ("" for all the auditor serves), and the choices."""
    choices = authorities.choices_for(get_session(), g.actor)
    code = request.args.get("authority", "")
    if code and authorities.by_code(choices, code) is None:
        raise NotFound(f"There is no authority '{code}'.")
    return code, choices


def _figures() -> figures.Figures:
    """Return the figures for the period and authority asked, within the auditor's authorities."""
    period = figures.Period.parse(request.args.get("start"))
    return figures.figures(get_session(), period, _scope())


def _scope() -> ColumnElement[bool]:
    """Return the cases counted: the authority asked's, or all the auditor's authorities'."""
    chosen, choices = _authority_chosen()
    scope = access.in_authorities(g.actor)
    if chosen:
        scope = scope & (Case.authority_id == authorities.by_code(choices, chosen))
    return scope


@bp.get("/figures/<figure>")
def figure_cases(figure: str) -> str:
    """List the cases behind one figure."""
    result = _figures()
    title = definitions.FIGURES.get(figure)
    if title is None:
        raise NotFound(f"There is no figure '{figure}'.")
    return render_template("audit/figure_cases.html", result=result, figure=figure, title=title)


def _summary(found: history.CaseHistory, task_spec: str | None, data: dict[str, Any]) -> Any:
    form = found.forms.get(task_spec or "")
    return schema_forms.read_only_summary(*form, data) if form and data else []


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
