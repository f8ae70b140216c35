"""`trigger-workflow api-clients`: issue, list and revoke the API clients systems use."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import click

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import actors, api_clients, authorities
from trigger_workflow.store.models import utcnow

if TYPE_CHECKING:
    from trigger_workflow.cli import Context


@click.group("api-clients")
def api_clients_group() -> None:
    """Issue, list and revoke API clients (systems calling /api/v1 with a bearer token)."""


@api_clients_group.command("issue")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(api_clients.ROLES))
@click.option("--agency", type=click.Choice(sorted(actors.AGENCIES)), help="For a partner agency.")
@click.option("--days", default=90, show_default=True, type=int, help="Days until it expires.")
@click.option("--authority", help="The council's short name; by default the first authority.")
@click.option("--county-wide", is_flag=True, help="No council: sees every council's cases.")
@click.pass_obj
def issue(
    ctx: Context,
    name: str,
    role: str,
    agency: str | None,
    days: int,
    authority: str | None,
    county_wide: bool,
) -> None:
    """Issue a client and print its token once (only its hash is kept)."""
    try:
        place = authorities.get(ctx.session(), authority).id if authority else None
        client, token = api_clients.issue(
            ctx.session(), name, role, agency, days, by=_operator(), authority_id=place,
            county_wide=county_wide,
        )  # fmt: skip
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Issued {client.name}, expires {client.expires_at:%-d %B %Y}. Its token:", err=True)
    click.echo(token)


@api_clients_group.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke(ctx: Context, name: str) -> None:
    """Revoke a client's token: its next request is refused."""
    try:
        api_clients.revoke(ctx.session(), name, by=_operator())
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{name} is revoked.")


@api_clients_group.command("list")
@click.pass_obj
def list_clients(ctx: Context) -> None:
    """List clients: name, role, agency, state, expiry and last use."""
    now = utcnow()
    for c in api_clients.list_clients(ctx.session()):
        used = f"{c.last_used_at:%-d %B %Y %H:%M}" if c.last_used_at else "never used"
        click.echo(
            f"{c.name:24} {c.role:12} {c.agency or '':22} {api_clients.state(c, now):8} "
            f"expires {c.expires_at:%-d %B %Y}, {used}"
        )


def _operator() -> str:
    """Name who made a change from the command line, for the security log."""
    return f"command line ({getpass.getuser()})"
