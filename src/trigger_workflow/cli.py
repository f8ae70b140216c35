"""The trigger-workflow command: set up the database, deploy processes, add officers, serve."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from trigger_workflow import logs
from trigger_workflow.cli_api_clients import api_clients_group
from trigger_workflow.cli_officers import officers
from trigger_workflow.engine import script_pool
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError, TriggerWorkflowError
from trigger_workflow.samples import DEMO_PASSWORD
from trigger_workflow.services import demo, demo_county
from trigger_workflow.services.accounts import actors, passwords
from trigger_workflow.services.casework import queries
from trigger_workflow.services.mail import letters, notifications
from trigger_workflow.services.process_owners import processes
from trigger_workflow.settings import Settings
from trigger_workflow.store import db


class Context:
    """Settings and a lazily created database session for one command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        script_pool.configure_from(settings)
        self._engine: Engine | None = None
        self._session: Session | None = None

    def session(self) -> Session:
        """Return the command's database session."""
        if self._session is None:
            self._engine = db.make_engine(self.settings.database_url)
            factory = db.make_session_factory(self._engine)
            letters.configure(factory, letters.council_from(self.settings))
            notifications.configure(factory, notifications.options_from(self.settings))
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
    logs.configure_unless_configured()
    overrides = {"database_url": database_url} if database_url else {}
    ctx.obj = Context(Settings.from_env(None, **overrides))
    ctx.call_on_close(ctx.obj.close)


main.add_command(api_clients_group)


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
@click.option(
    "--authority",
    default=None,
    help="Deploy for this council only (its short name): its new cases take the version; "
    "the county's current version does not change.",
)
@pass_context
def deploy(
    ctx: Context,
    processes_dir: Path | None,
    forms_dir: Path | None,
    actor: str,
    authority: str | None,
) -> None:
    """Check and deploy the diagrams, decision tables and forms as a new version."""
    files = processes.read_process_files(
        processes_dir or ctx.settings.processes_dir, forms_dir or ctx.settings.forms_dir
    )
    councils = None
    if authority:
        from trigger_workflow.services.accounts import authorities

        try:
            councils = [authorities.get(ctx.session(), authority).id]
        except TriggerWorkflowError as error:
            raise click.ClickException(error.message) from error
    result = _deploy_or_exit(ctx.session(), files, actor, councils)
    if result.created:
        state = "Deployed new"
    elif result.made_current:
        state = "Made current again:"
    else:
        state = "Already deployed:"
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
    hashing = passwords.Hashing(ctx.settings.argon2_time_cost, ctx.settings.argon2_memory_kib)
    password_hash = passwords.hash_password(DEMO_PASSWORD, hashing)
    created = demo.load(ctx.session(), count, password_hash)
    county = demo_county.load(ctx.session(), password_hash)
    click.echo(
        f"Demo data ready: {len(created)} new cases, {len(actors.list_officers(ctx.session()))} officers."
    )
    click.echo(
        f"County demo: {len(county)} new cases in Chesterfield (cath, abe) and Amber Valley "
        "(avery); pete (police), heath (health), olu (OPCC), adam (administrator) and owen "
        "(process owner) are county-wide."
    )
    click.echo(
        f"Demo officers (carol, pete, hana, heath, ingrid, olu, ada, owen, adam) sign in with the "
        f"password '{DEMO_PASSWORD}'. For a local demo only: never load demo officers into a "
        "service that holds real cases."
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
    from trigger_workflow.services.process_owners import validation

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
    from trigger_workflow.services.process_owners import diagram_tests

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


@processes_group.command("versions")
@pass_context
def processes_versions(ctx: Context) -> None:
    """List the deployed versions: who deployed what and when, and what changed in each."""
    from trigger_workflow.services.process_owners import versions

    for summary in versions.list_versions(ctx.session()):
        counts = summary.diff.counts()
        mark = "current" if summary.current else ""
        click.echo(
            f"{summary.number:4}  {summary.deployed_at:%Y-%m-%d %H:%M}  {summary.deployed_by:16} "
            f"{summary.content_hash[:12]}  {summary.open_cases:3} open  "
            f"+{counts['added']} -{counts['removed']} ~{counts['changed']}  {mark}"
        )
    for deployment in versions.deployments(ctx.session())[:10]:
        click.echo(
            f"  {deployment.deployed_at:%Y-%m-%d %H:%M} {deployment.kind:8} version "
            f"{deployment.number} by {deployment.deployed_by}"
        )


@processes_group.command("diff")
@click.argument("before", type=int)
@click.argument("after", type=int)
@pass_context
def processes_diff(ctx: Context, before: int, after: int) -> None:
    """Show what changed from version BEFORE to version AFTER: tasks, flows, forms, rules."""
    from trigger_workflow.services.process_owners import versions

    try:
        difference = versions.compare(ctx.session(), before, after)
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    if not difference.changes:
        click.echo(f"Versions {before} and {after} have the same elements.")
    for change in difference.changes:
        click.echo(str(change))


@processes_group.command("rollback")
@click.argument("number", type=int)
@click.option(
    "--as", "actor", default="cli", show_default=True, help="Who the rollback is recorded under."
)
@pass_context
def processes_rollback(ctx: Context, number: int, actor: str) -> None:
    """Make version NUMBER the one new cases take (running cases stay where they are)."""
    from trigger_workflow.services.process_owners import versions

    try:
        result = versions.rollback(ctx.session(), number, actors.Actor(actor, "process_owner"))
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    if result.made_current:
        click.echo(f"New cases now take version {number}.")
    else:
        click.echo(f"Version {number} is already the one new cases take.")


@processes_group.command("migrate")
@click.option("--from", "from_number", type=int, required=True, help="Version the cases are on.")
@click.option("--to", "to_number", type=int, required=True, help="Version to move them to.")
@click.option("--dry-run", is_flag=True, help="Only list which cases could move, and why not.")
@click.option(
    "--as", "actor", default="cli", show_default=True, help="Who the moves are recorded under."
)
@click.option("--authority", default=None, help="Only this council's cases (its short name).")
@pass_context
def processes_migrate(
    ctx: Context,
    from_number: int,
    to_number: int,
    dry_run: bool,
    actor: str,
    authority: str | None,
) -> None:
    """Move open cases from one version to another: each that can, in its own transaction."""
    from trigger_workflow.services.accounts import authorities
    from trigger_workflow.services.process_owners import case_migration

    try:
        authority_id = authorities.get(ctx.session(), authority).id if authority else None
        command = case_migration.MigrateCases(
            from_number, to_number, actors.Actor(actor, "process_owner"), dry_run=dry_run,
            authority_id=authority_id,
        )  # fmt: skip
        report = case_migration.migrate_cases(ctx.session(), command)
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    verb = "can move" if dry_run else "moved"
    click.echo(f"{len(report.movable)} case(s) {verb} from version {from_number} to {to_number}:")
    for move in report.movable:
        click.echo(f"  {move.reference}  waiting on: {', '.join(move.waiting) or '-'}")
    left = "cannot move" if dry_run else "left on version " + str(from_number)
    click.echo(f"{len(report.not_movable)} case(s) {left}:")
    for move in report.not_movable:
        click.echo(f"  {move.reference}  " + "; ".join(move.reasons))


@main.group()
def audit() -> None:
    """Verify and replay case histories; the statutory figures (for auditors)."""


# Auditors' commands.


@audit.command("verify")
@click.argument("references", nargs=-1, metavar="[CASE]...")
@pass_context
def audit_verify(ctx: Context, references: tuple[str, ...]) -> None:
    """Check the hash chain of each case's history (all cases by default); exit 1 if any is broken."""
    from trigger_workflow.services.audit import verify

    def progress(checked: int, total: int) -> None:
        # On a terminal, how far it has got (to standard error: the report stays clean).
        if sys.stderr.isatty():
            end = "\n" if checked == total else ""
            click.echo(f"\r  {checked:,} of {total:,} cases verified{end}", err=True, nl=False)

    try:
        report = verify.verify_cases(ctx.session(), references, progress=progress)
    except TriggerWorkflowError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    for verdict in report.broken:
        for problem in verdict.problems:
            click.echo(f"{verdict.reference}: {problem.message}")
    for reference, note in report.erased:
        click.echo(f"{reference}: {note.message}")
    broken = len(report.broken)
    click.echo(
        f"{report.checked} cases, {report.events} events checked: "
        + (f"{broken} broken." if broken else "every chain intact.")
    )
    if broken:
        sys.exit(1)


@audit.command("replay")
@click.argument("reference", metavar="CASE")
@pass_context
def audit_replay(ctx: Context, reference: str) -> None:
    """Re-run a case from its first event and compare with its stored state; exit 1 if they differ."""
    from trigger_workflow.services.audit import replay

    try:
        result = replay.replay_case(ctx.session(), reference)
    except TriggerWorkflowError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if result.divergence is None:
        click.echo(
            f"{reference}: {result.events} events replayed on process version "
            f"{result.process_version}: the replay matches the stored state."
        )
        if result.erasure_note:
            click.echo(f"{reference}: {result.erasure_note}")
        return
    click.echo(
        f"{reference}: diverges at event {result.divergence.seq}: {result.divergence.message}"
    )
    sys.exit(1)


@audit.command("figures")
@click.option(
    "--start", help="First day of the 12 months (YYYY-MM-DD); default: this financial year."
)
@pass_context
def audit_figures(ctx: Context, start: str | None) -> None:
    """Print the statutory figures (R20), their cases and each step's timeliness, as CSV."""
    from trigger_workflow.services.audit import figures

    try:
        result = figures.figures(ctx.session(), figures.Period.parse(start))
    except TriggerWorkflowError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(figures.figures_csv(result), nl=False)
    for problem in result.inconsistencies():
        click.echo(f"warning: the figures do not add up: {problem}", err=True)


def _deploy_or_exit(
    session: Session, files: ProcessFiles, actor: str, councils: list[int] | None = None
) -> processes.DeployResult:
    """Deploy, or print each problem with its file and line and exit with status 1."""
    try:
        return processes.deploy(session, files, actor, councils=councils)
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
    """Fire due timers (escalations, deadlines), email due letters and erase closed cases past their retention; safe to run as several processes on PostgreSQL."""
    import time

    from trigger_workflow.services.tasks import timers

    engine = db.make_engine(ctx.settings.database_url)
    sessions = db.make_session_factory(engine)
    letters.configure(sessions, letters.council_from(ctx.settings))
    notifications.configure(sessions, notifications.options_from(ctx.settings))
    click.echo(f"Worker started (every {interval:g} s).")
    try:
        while True:
            fired = timers.fire_due_timers(sessions)
            if fired:
                click.echo(f"Fired timers on {fired} case(s).")
            more_waiting = False
            try:
                more_waiting = _letters_pass(ctx.settings, sessions)
            except Exception:
                # Letters wait for the next pass; timers must keep firing meanwhile.
                logging.getLogger(__name__).exception("The letters pass failed")
            try:
                more_waiting |= _retention_pass(ctx.settings, sessions)
            except Exception:
                logging.getLogger(__name__).exception("The retention schedule's pass failed")
            if more_waiting:
                continue  # a full batch: go on at once (timers fire between batches)
            if once:
                return
            time.sleep(interval)
    finally:
        engine.dispose()


def _letters_pass(settings: Settings, sessions: Any) -> bool:
    """Make new letters' PDFs, email the due ones, forget stale uploads; return whether more wait."""
    from trigger_workflow.services.mail import worker_pass

    done = worker_pass.run_pass(sessions, _letters_work(settings))
    mailed = done.mailed
    if mailed.sent or mailed.retrying or mailed.failed:
        click.echo(
            f"Letters emailed {len(mailed.sent)}, to retry {len(mailed.retrying)}, "
            f"failed {len(mailed.failed)}."
        )
    if done.pdfs_made:
        click.echo(f"Letters' PDFs made: {done.pdfs_made}.")
    return done.more_waiting


def _retention_pass(settings: Settings, sessions: Any) -> bool:
    """Erase the closed cases whose retention has run out (a batch); return whether more wait."""
    from trigger_workflow.engine import calendar
    from trigger_workflow.services.privacy import retention

    done = retention.run(
        sessions,
        calendar.today(),
        False,
        instance_path=settings.instance_path,
        default_years=settings.retention_years,
        limit=retention.BATCH,
    )
    if done.erased or done.failed:
        click.echo(
            f"Retention schedule: {len(done.erased)} case(s) erased, {len(done.failed)} failed."
        )
    return done.more_waiting


def _letters_work(settings: Settings) -> Any:
    from trigger_workflow.services.mail import outbox, worker_pass

    storage = _document_storage(settings)
    return worker_pass.LettersWork(
        server=outbox.mail_server_from(settings),
        storage=storage,
        max_attempts=settings.outbox_max_attempts,
        keep_unclaimed=storage.limits.keep_unclaimed,
    )


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

    from trigger_workflow.services.mail import outbox

    engine = db.make_engine(ctx.settings.database_url)
    sessions = db.make_session_factory(engine)
    server = outbox.mail_server_from(ctx.settings)
    letters.configure(sessions, letters.council_from(ctx.settings))
    notifications.configure(sessions, notifications.options_from(ctx.settings))
    try:
        while True:
            letters.make_pending_pdfs(sessions)
            report = outbox.send_due(sessions, server, ctx.settings.outbox_max_attempts)
            click.echo(
                f"Sent {len(report.sent)}, will retry {len(report.retrying)}, "
                f"gave up on {len(report.failed)}."
            )
            if len(report.sent + report.retrying + report.failed) >= outbox.BATCH:
                continue  # a full batch: more are due, send them now
            if once:
                return
            time.sleep(interval)
    finally:
        engine.dispose()


@outbox_group.command("list")
@pass_context
def outbox_list(ctx: Context) -> None:
    """List the letters to print and post, and the emails that could not be sent."""
    from trigger_workflow.services.mail import outbox

    session = ctx.session()
    for message in outbox.print_queue(session):
        address = (message.postal_address or "no postal address").replace("\n", ", ")
        click.echo(f"print  {message.id:5}  letter {message.letter_id:5}  {address}")
    for message in outbox.needing_attention(session):
        to = message.recipient_email or message.recipient_phone
        click.echo(f"failed {message.id:5}  {to}  {message.last_error}")


@outbox_group.command("forget-unclaimed-uploads")
@click.option(
    "--hours",
    type=int,
    default=None,
    help="Keep uploads younger than this [default: UPLOAD_KEEP_UNCLAIMED_MINUTES].",
)
@pass_context
def outbox_forget_uploads(ctx: Context, hours: int | None) -> None:
    """Delete files uploaded with forms never sent (the worker does this on every pass)."""
    from datetime import timedelta

    from trigger_workflow.services.applications import documents
    from trigger_workflow.store.models import utcnow

    storage = _document_storage(ctx.settings)
    keep = storage.limits.keep_unclaimed if hours is None else timedelta(hours=hours)
    gone = documents.forget_unclaimed(ctx.session(), storage, utcnow() - keep)
    click.echo(f"Deleted {gone} unclaimed upload(s).")


def _document_storage(settings: Settings) -> Any:
    from trigger_workflow.services.applications import documents

    return documents.storage_from(settings)


@outbox_group.command("printed")
@click.argument("message_id", type=int)
@click.option("--as", "username", required=True, help="The coordinator who printed and posted it.")
@pass_context
def outbox_printed(ctx: Context, message_id: int, username: str) -> None:
    """Record that a letter in the print queue was printed and posted."""
    from trigger_workflow.services.mail import outbox

    session = ctx.session()
    try:
        outbox.mark_printed(session, message_id, actors.find_officer(session, username))
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Letter {message_id} marked as printed and posted.")


from trigger_workflow.cli_authorities import authorities_group  # noqa: E402 (uses Context)
from trigger_workflow.cli_privacy import cases_erase, retention_group  # noqa: E402 (uses Context)
from trigger_workflow.cli_subject_access import subject_access_group  # noqa: E402 (uses Context)

main.add_command(authorities_group)
main.add_command(retention_group)
cases.add_command(cases_erase)
main.add_command(officers)
main.add_command(subject_access_group)
