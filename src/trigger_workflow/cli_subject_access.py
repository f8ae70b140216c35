"""The command line for subject access requests: find a person, then export what is held."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from trigger_workflow.cli import Context
from trigger_workflow.errors import FormInvalid, TriggerWorkflowError
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.privacy import subject_access, subject_access_files

pass_context = click.make_pass_decorator(Context)
F = TypeVar("F", bound=Callable[..., Any])


@click.group("subject-access")
def subject_access_group() -> None:
    """Answer subject access requests: find a person across cases, export what is held."""


def _person_options(command: F) -> F:
    """Add the officer acting and the details the person is found by."""
    options = [
        click.option(
            "--as", "username", required=True, help="The auditor or administrator acting."
        ),
        click.option("--name", default="", help="The person's name."),
        click.option("--email", default="", help="Their email address."),
        click.option("--phone", default="", help="Their phone number."),
        click.option("--postcode", default="", help="Their postcode."),
        click.option("--date-of-birth", "date_of_birth", default="", help="YYYY-MM-DD."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@subject_access_group.command("search")
@_person_options
@pass_context
def search(ctx: Context, username: str, **details: str) -> None:
    """List the cases where the person is found: MATCH (reference:as whom), and what matched."""
    session = ctx.session()
    try:
        actor = actors.find_officer(session, username)
        matches = subject_access.search(
            session, actor, subject_access.PersonQuery.from_form(details)
        )
    except TriggerWorkflowError as error:
        raise click.ClickException(_message(error)) from error
    if not matches:
        click.echo("No matches on the cases you serve.")
    for match in matches:
        click.echo(
            f"{match.key:40} {match.authority}, received {match.received_on.isoformat()}, "
            f"{match.status}: matched on {match.matched_text}"
        )


@subject_access_group.command("export")
@_person_options
@click.option(
    "--match",
    "chosen",
    multiple=True,
    required=True,
    help="A match to include, as `search` lists it (REFERENCE:subject); repeat for more.",
)
@click.option("--format", "fmt", type=click.Choice(["json", "pdf"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_context
def export(
    ctx: Context,
    username: str,
    chosen: tuple[str, ...],
    fmt: str,
    out: Path,
    **details: str,
) -> None:
    """Write what is held about the person on the chosen matches to a JSON or PDF file."""
    session = ctx.session()
    what = fmt.upper()
    try:
        actor = actors.find_officer(session, username)
        query = subject_access.PersonQuery.from_form(details)
        done = subject_access.export(session, actor, query, chosen, what)
    except TriggerWorkflowError as error:
        raise click.ClickException(_message(error)) from error
    if fmt == "pdf":
        out.write_bytes(subject_access_files.as_pdf(done.document, ctx.settings.council_name))
    else:
        out.write_text(subject_access_files.as_json(done.document), encoding="utf-8")
    out.chmod(0o600)  # personal data: readable by its owner only
    click.echo(f"Wrote {what} of {len(done.references)} case(s) to {out}.")


def _message(error: TriggerWorkflowError) -> str:
    if isinstance(error, FormInvalid):
        return "; ".join(p.message for p in error.problems)
    return error.message
