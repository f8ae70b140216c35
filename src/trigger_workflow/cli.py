"""The trigger-workflow command: set up the database, deploy processes, add officers, serve."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError, TriggerWorkflowError
from trigger_workflow.services import actors, demo, letters, processes, queries
from trigger_workflow.settings import Settings
from trigger_workflow.store import db


class Context:
    """Settings and a lazily created database session for one command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._session: Session | None = None

    def session(self) -> Session:
        """Return the command's database session."""
        if self._session is None:
            self._engine = db.make_engine(self.settings.database_url)
            factory = db.make_session_factory(self._engine)
            letters.configure(factory, letters.council_from(self.settings))
            self._session = factory()
        return self._session

    def close(self) -> None:
        """Close the session and its connections when the command ends."""
        if self._session is not None:
            self._session.close()
        if self._engine is not None:
            self._engine.dispose()


pass_context = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--database-url",
    envvar="TRIGGER_WORKFLOW_DATABASE_URL",
    help="Database URL (default: SQLite in ./instance).",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Run the Community Trigger (ASB case review) workflow service."""
    overrides = {"database_url": database_url} if database_url else {}
    ctx.obj = Context(Settings.from_env(None, **overrides))
    ctx.call_on_close(ctx.obj.close)


@main.command("init-db")
@pass_context
def init_db(ctx: Context) -> None:
    """Create or upgrade the database tables (Alembic migrations)."""
    db.upgrade(ctx.settings.database_url)
    click.echo(f"Database is up to date: {_safe_url(ctx.settings.database_url)}")


@main.command()
@click.option("--processes-dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms-dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--as", "actor", default="cli", show_default=True, help="Who the deployment is recorded under."
)
@pass_context
def deploy(ctx: Context, processes_dir: Path | None, forms_dir: Path | None, actor: str) -> None:
    """Check and deploy the diagrams, decision tables and forms as a new version."""
    files = processes.read_process_files(
        processes_dir or ctx.settings.processes_dir, forms_dir or ctx.settings.forms_dir
    )
    result = _deploy_or_exit(ctx.session(), files, actor)
    state = "Deployed new" if result.created else "Already deployed:"
    click.echo(f"{state} version {result.version.number} ({result.version.content_hash[:12]})")


@main.command("demo")
@click.option(
    "--cases", "count", default=8, show_default=True, help="How many demo cases to create."
)
@pass_context
def demo_command(ctx: Context, count: int) -> None:
    """Set up the database, deploy the processes, and add demo officers and cases."""
    db.upgrade(ctx.settings.database_url)
    files = processes.read_process_files(ctx.settings.processes_dir, ctx.settings.forms_dir)
    _deploy_or_exit(ctx.session(), files, "demo")
    created = demo.load(ctx.session(), count)
    click.echo(
        f"Demo data ready: {len(created)} new cases, {len(actors.list_officers(ctx.session()))} officers."
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Reload on code changes.")
@pass_context
def serve(ctx: Context, host: str, port: int, debug: bool) -> None:
    """Serve the web application (for development; use gunicorn in production)."""
    from trigger_workflow.app import create_app

    app = create_app(ctx.settings)
    click.echo(f"Community Trigger is running at http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@main.group()
def officers() -> None:
    """Manage officer accounts."""


@officers.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name shown on tasks and events.")
@click.option("--role", required=True, type=click.Choice(sorted(actors.ROLES)))
@click.option(
    "--agency", type=click.Choice(sorted(actors.AGENCIES)), help="Required for partner officers."
)
@pass_context
def officers_add(
    ctx: Context, username: str, display_name: str, role: str, agency: str | None
) -> None:
    """Add an officer with a role (and agency)."""
    try:
        actors.add_officer(ctx.session(), username, display_name, role, agency)
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Added {username} ({role}{', ' + agency if agency else ''})")


@officers.command("list")
@pass_context
def officers_list(ctx: Context) -> None:
    """List officers with their roles and agencies."""
    for officer in actors.list_officers(ctx.session()):
        click.echo(
            f"{officer.username:20} {officer.role:14} {officer.agency or '':22} {officer.display_name}"
        )


@main.group()
def cases() -> None:
    """Look at cases."""


@cases.command("list")
@click.option("--limit", default=50, show_default=True)
@pass_context
def cases_list(ctx: Context, limit: int) -> None:
    """List the most recently changed cases."""
    for case in queries.recent_cases(ctx.session(), limit):
        click.echo(
            f"{case.reference:14} {case.status:7} {case.stage:28} {case.applicant_name or ''}"
        )


@cases.command("show")
@click.argument("reference")
@pass_context
def cases_show(ctx: Context, reference: str) -> None:
    """Show a case's stage, open tasks and history."""
    try:
        page = queries.case_page(ctx.session(), reference)
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    case = page.case
    click.echo(
        f"{case.reference}  {case.status}  stage: {case.stage}  outcome: {case.outcome or '-'}"
    )
    for task in page.open_tasks:
        click.echo(
            f"  open: {task.name} [{task.role}{'/' + task.agency if task.agency else ''}] due {task.due_on or '-'}  id {task.id}"
        )
    for event in page.events:
        click.echo(
            f"  {event.seq:3} {event.occurred_at:%Y-%m-%d %H:%M} {event.actor:16} {event.kind} {event.task_name or ''}"
        )


@main.group("processes")
def processes_group() -> None:
    """Validate, test, version and migrate the process (for process owners)."""


# Process owners' commands: validating and testing diagrams.


# Process owners' commands: versions, differences, rollback and moving cases.


@main.group()
def audit() -> None:
    """Verify and replay case histories; the statutory figures (for auditors)."""


# Auditors' commands.


def _deploy_or_exit(session: Session, files: ProcessFiles, actor: str) -> processes.DeployResult:
    """Deploy, or print each problem with its file and line and exit with status 1."""
    try:
        return processes.deploy(session, files, actor)
    except DiagramError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@click.option(
    "--interval", default=30.0, show_default=True, help="Seconds between looks for due timers."
)
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@pass_context
def worker(ctx: Context, interval: float, once: bool) -> None:
    """Fire due timers (escalations, deadlines) and email due letters; safe to run as several processes on PostgreSQL."""
    import time

    from trigger_workflow.services import timers

    engine = db.make_engine(ctx.settings.database_url)
    sessions = db.make_session_factory(engine)
    letters.configure(sessions, letters.council_from(ctx.settings))
    click.echo(f"Worker started (every {interval:g} s).")
    try:
        while True:
            fired = timers.fire_due_timers(sessions)
            if fired:
                click.echo(f"Fired timers on {fired} case(s).")
            _letters_pass(ctx.settings, sessions)
            if once:
                return
            time.sleep(interval)
    finally:
        engine.dispose()


def _letters_pass(settings: Settings, sessions: Any) -> None:
    """Make new letters' PDFs, email the due ones, forget uploads of forms never sent."""
    from trigger_workflow.services import documents, outbox

    letters.make_pending_pdfs(sessions)
    mailed = outbox.send_due(
        sessions, outbox.mail_server_from(settings), settings.outbox_max_attempts
    )
    if mailed.sent or mailed.retrying or mailed.failed:
        click.echo(
            f"Letters emailed {len(mailed.sent)}, to retry {len(mailed.retrying)}, "
            f"failed {len(mailed.failed)}."
        )
    with sessions() as session:
        documents.forget_unclaimed(session, _document_storage(settings), _hours_ago(24))


# Letters and the outbox (issue 3): sending, the print queue, uploads never claimed.


@main.group("outbox")
def outbox_group() -> None:
    """Send letters by email, and see or clear the print queue (issue 3)."""


@outbox_group.command("send")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Send what is due now and stop.")
@pass_context
def outbox_send(ctx: Context, interval: float, once: bool) -> None:
    """Email the letters that are due over SMTP; several senders may run at once."""
    import time

    from trigger_workflow.services import outbox

    engine = db.make_engine(ctx.settings.database_url)
    sessions = db.make_session_factory(engine)
    server = outbox.mail_server_from(ctx.settings)
    letters.configure(sessions, letters.council_from(ctx.settings))
    try:
        while True:
            letters.make_pending_pdfs(sessions)
            report = outbox.send_due(sessions, server, ctx.settings.outbox_max_attempts)
            click.echo(
                f"Sent {len(report.sent)}, will retry {len(report.retrying)}, "
                f"gave up on {len(report.failed)}."
            )
            if once:
                return
            time.sleep(interval)
    finally:
        engine.dispose()


@outbox_group.command("list")
@pass_context
def outbox_list(ctx: Context) -> None:
    """List the letters to print and post, and the emails that could not be sent."""
    from trigger_workflow.services import outbox

    session = ctx.session()
    for message in outbox.print_queue(session):
        address = (message.postal_address or "no postal address").replace("\n", ", ")
        click.echo(f"print  {message.id:5}  letter {message.letter_id:5}  {address}")
    for message in outbox.needing_attention(session):
        click.echo(f"failed {message.id:5}  {message.recipient_email}  {message.last_error}")


@outbox_group.command("forget-unclaimed-uploads")
@click.option("--hours", default=24, show_default=True, help="Keep uploads younger than this.")
@pass_context
def outbox_forget_uploads(ctx: Context, hours: int) -> None:
    """Delete files uploaded with forms never sent (the worker does this for those a day old)."""
    from trigger_workflow.services import documents

    storage = _document_storage(ctx.settings)
    gone = documents.forget_unclaimed(ctx.session(), storage, _hours_ago(hours))
    click.echo(f"Deleted {gone} unclaimed upload(s).")


def _document_storage(settings: Settings) -> Any:
    from trigger_workflow.services import documents

    return documents.Storage(settings.instance_path / "documents", settings.upload_max_bytes)


def _hours_ago(hours: int) -> Any:
    from datetime import timedelta

    from trigger_workflow.store.models import utcnow

    return utcnow() - timedelta(hours=hours)


@outbox_group.command("printed")
@click.argument("message_id", type=int)
@click.option("--as", "username", required=True, help="The coordinator who printed and posted it.")
@pass_context
def outbox_printed(ctx: Context, message_id: int, username: str) -> None:
    """Record that a letter in the print queue was printed and posted."""
    from trigger_workflow.services import outbox

    session = ctx.session()
    try:
        outbox.mark_printed(session, message_id, actors.find_officer(session, username))
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Letter {message_id} marked as printed and posted.")
