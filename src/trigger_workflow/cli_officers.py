"""`trigger-workflow officers`: add, list, disable officers and set their passwords."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING

import click

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import actors, authorities, passwords

if TYPE_CHECKING:
    from trigger_workflow.cli import Context


@click.group()
def officers() -> None:
    """Manage officer accounts."""


@officers.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name shown on tasks and events.")
@click.option("--role", required=True, type=click.Choice(sorted(actors.ROLES)))
@click.option(
    "--agency", type=click.Choice(sorted(actors.AGENCIES)), help="Required for partner officers."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--no-password", is_flag=True, help="No password: the officer signs in through OpenID Connect."
)
@click.option("--authority", help="The authority's short name; by default the first authority.")
@click.option("--county-wide", is_flag=True, help="No authority: sees every authority's cases.")
@click.pass_obj
def officers_add(
    ctx: Context,
    username: str,
    display_name: str,
    role: str,
    agency: str | None,
    password_stdin: bool,
    no_password: bool,
    authority: str | None,
    county_wide: bool,
) -> None:
    """Add an officer with a role (and agency) and a password (prompted for unless given)."""
    try:
        actors.check_role(role, agency)  # before asking for a password
        place = authorities.get(ctx.session(), authority).id if authority else None
        password_hash = None if no_password else _new_password_hash(ctx, password_stdin)
        actors.add_officer(
            ctx.session(), username, display_name, role, agency, password_hash, by=_operator(),
            authority_id=place, county_wide=county_wide,
        )  # fmt: skip
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Added {username} ({role}{', ' + agency if agency else ''})")


@officers.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def officers_set_password(ctx: Context, username: str, password_stdin: bool) -> None:
    """Set an officer's password; every session they have ends."""
    try:
        actors.officer_account(ctx.session(), username)
        new_hash = _new_password_hash(ctx, password_stdin)
        actors.set_password_hash(ctx.session(), username, new_hash, by=_operator())
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Password set for {username}; their sessions have ended.")


@officers.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the officer again instead.")
@click.pass_obj
def officers_disable(ctx: Context, username: str, enable: bool) -> None:
    """Disable an officer: they cannot sign in, and their sessions end at once."""
    try:
        actors.set_disabled(ctx.session(), username, not enable, by=_operator())
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{username} is {'enabled' if enable else 'disabled'}.")


def _operator() -> str:
    """Name who made a change from the command line, for the security log."""
    return f"command line ({getpass.getuser()})"


def _new_password_hash(ctx: Context, from_stdin: bool) -> str:
    """Read a new password (standard input, or a hidden prompt asked twice) and hash it."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    hashing = passwords.Hashing(ctx.settings.argon2_time_cost, ctx.settings.argon2_memory_kib)
    return passwords.hash_password(password, hashing)


@officers.command("list")
@click.pass_obj
def officers_list(ctx: Context) -> None:
    """List officers with their roles and agencies."""
    for officer in actors.list_officers(ctx.session()):
        click.echo(
            f"{officer.username:20} {officer.role:14} {officer.agency or '':22} {officer.display_name}"
        )
