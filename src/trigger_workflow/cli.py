"""The trigger-workflow command: set up the database, deploy processes, add officers, serve."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError, TriggerWorkflowError
from trigger_workflow.services import actors, demo, processes, queries
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
            self._session = db.make_session_factory(self._engine)()
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
@processes_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--forms-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Forms of a process folder (default: the configured forms folder).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@pass_context
def processes_validate(
    ctx: Context, paths: tuple[Path, ...], forms_dir: Path | None, strict: bool
) -> None:
    """Check a process folder (as deploy does, plus warnings) or single .bpmn/.dmn files."""
    from trigger_workflow.services import validation

    targets = list(paths) or [ctx.settings.processes_dir]
    folder = len(targets) == 1 and targets[0].is_dir()
    forms = forms_dir or (ctx.settings.forms_dir if folder and not paths else None)
    try:
        report = validation.validate_paths(targets, forms)
    except DiagramError as error:
        raise click.ClickException(str(error.problems[0])) from error
    for finding in report.findings:
        click.echo(str(finding), err=True)
    summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    click.echo(("Problems found: " if report.findings else "No problems: ") + summary)
    if report.errors or (strict and report.warnings):
        sys.exit(1)


@processes_group.command("test")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--processes-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The candidate process folder (default: the configured one).",
)
@click.option(
    "--forms-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Its forms (default: a forms/ folder inside it, else the configured forms folder).",
)
@pass_context
def processes_test(
    ctx: Context, files: tuple[Path, ...], processes_dir: Path | None, forms_dir: Path | None
) -> None:
    """Run diagram tests (YAML paths through the process) against a candidate, without deploying."""
    from trigger_workflow.services import diagram_tests

    folder = processes_dir or ctx.settings.processes_dir
    paths = list(files) or sorted((folder / "tests").glob("*.y*ml"))
    if not paths:
        raise click.ClickException(f"No diagram tests given, and none in {folder / 'tests'}.")
    bundled = folder / "forms"
    forms = forms_dir or (bundled if bundled.is_dir() else ctx.settings.forms_dir)
    results = diagram_tests.run_files(paths, folder, forms)
    for result in results:
        click.echo("\n".join(result.lines()))
    failed = [r for r in results if not r.passed]
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)


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
    """Fire due timers (escalations, deadlines); safe to run as several processes on PostgreSQL."""
    import time

    from trigger_workflow.services import timers

    sessions = db.make_session_factory(db.make_engine(ctx.settings.database_url))
    click.echo(f"Worker started (every {interval:g} s).")
    while True:
        fired = timers.fire_due_timers(sessions)
        if fired:
            click.echo(f"Fired timers on {fired} case(s).")
        if once:
            return
        time.sleep(interval)
