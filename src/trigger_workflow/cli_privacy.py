"""The command line for data protection (issue 13): the retention schedule, erasure on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from trigger_workflow.cli import Context
from trigger_workflow.engine import calendar
from trigger_workflow.errors import NotFound
from trigger_workflow.services.accounts.actors import ADMINISTRATOR, Actor
from trigger_workflow.services.privacy import erasures, personal_data, retention
from trigger_workflow.store import db

pass_context = click.make_pass_decorator(Context)


@click.group("retention")
def retention_group() -> None:
    """The retention schedule: erase closed cases' personal data when their time is up."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would be erased; change nothing.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Count due dates as on this day (default: today, UK time).",
)
@pass_context
def retention_run(ctx: Context, dry_run: bool, today: object) -> None:
    """Erase the personal data of every closed case whose retention period has run out."""
    day = today.date() if today is not None else calendar.today()  # type: ignore[attr-defined]
    engine = db.make_engine(ctx.settings.database_url)
    try:
        report = retention.run(
            db.make_session_factory(engine),
            day,
            dry_run,
            instance_path=Path(ctx.settings.instance_path),
            default_years=ctx.settings.retention_years,
        )
    finally:
        engine.dispose()
    echo_report(report)
    if report.failed:
        raise SystemExit(1)


def echo_report(report: retention.RetentionReport) -> None:
    """Print what a run of the schedule erased (or would), one case a line; counts, no values."""
    verb = "would erase" if report.dry_run else "erased"
    for item in report.erased:
        counts = _counts(item.counts)
        click.echo(
            f"{item.reference}  closed {item.closed_on:%Y-%m-%d}  due {item.due_on:%Y-%m-%d}  "
            f"{verb}: {counts or 'nothing left'}"
        )
    for item in report.failed:
        click.echo(f"{item.reference}  due {item.due_on:%Y-%m-%d}  FAILED: {item.error}", err=True)
    click.echo(
        f"{len(report.erased)} case(s) {verb} on {report.today:%Y-%m-%d}"
        + (f", {len(report.failed)} failed." if report.failed else ".")
    )


@click.command("erase")
@click.argument("reference")
@click.option(
    "--subject",
    "subjects",
    multiple=True,
    required=True,
    type=click.Choice(personal_data.SUBJECTS),
    help="Whose data to erase (repeat).",
)
@click.option("--reason", required=True, help="Why (kept with the case; not the person's name).")
@click.option(
    "--confirm-open-case",
    is_flag=True,
    help="Erase the applicant's data although the case is still open.",
)
@click.option(
    "--as", "username", default="cli", show_default=True, help="Who the erasure is recorded under."
)
@pass_context
def cases_erase(
    ctx: Context,
    reference: str,
    subjects: tuple[str, ...],
    reason: str,
    confirm_open_case: bool,
    username: str,
) -> None:
    """Erase one or more persons' data from case REFERENCE, on request."""
    session = ctx.session()
    actor = Actor(username, ADMINISTRATOR)
    try:
        case = erasures.case_of(session, actor, reference)
        row = erasures.erase(
            session, case, subjects, under=erasures.REQUEST, reason=reason,
            actor=actor, instance_path=Path(ctx.settings.instance_path),
            open_case_confirmed=confirm_open_case,
        )  # fmt: skip
    except (erasures.ErasureRefused, NotFound) as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Erased {', '.join(sorted(subjects))} from {reference}: {_counts(row.counts)}.")


def _counts(counts: dict[str, Any]) -> str:
    """Write an erasure's counts per store (a list, such as legacy events, by its length)."""
    numbers = {k: len(v) if isinstance(v, list) else v for k, v in counts.items()}
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(numbers.items()) if v)
