"""The command line for authorities: list, add and change them; give officers their authority."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from trigger_workflow.cli import Context
from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.accounts import actors, authorities

pass_context = click.make_pass_decorator(Context)
F = TypeVar("F", bound=Callable[..., Any])


@click.group("authorities")
def authorities_group() -> None:
    """Manage the authorities (councils) this service runs the community trigger for."""


@authorities_group.command("list")
@pass_context
def authorities_list(ctx: Context) -> None:
    """List the authorities with their reference prefixes and local settings."""
    for authority in authorities.all_authorities(ctx.session()):
        summary = authorities.settings_summary(authority)
        click.echo(
            f"{authority.code:24} {authority.reference_prefix:8} {authority.name}: "
            + "; ".join(f"{k.lower()}: {v}" for k, v in summary.items())
        )


def _options(command: F) -> F:
    """Add the options of an authority's details (add and change share them)."""
    options = [
        click.option("--name", help="The council's name, printed on its letters."),
        click.option("--prefix", "reference_prefix", help="Its case references' prefix, e.g. CHF."),
        click.option("--address", help="Its address, for the letter heading."),
        click.option("--email", help="Its email address, for the letter heading."),
        click.option("--phone", help="Its phone number, for the letter heading."),
        click.option("--logo-file", help="The name of its logo image."),
        click.option(
            "--threshold", "threshold_number", type=int, help="Local number of complaints (1-3)."
        ),
        click.option(
            "--threshold-months",
            "threshold_window_months",
            type=int,
            help="Local threshold window in months (1-6).",
        ),
        click.option(
            "--timescale",
            "timescales",
            multiple=True,
            metavar="TASK=DAYS",
            help="A local timescale in working days (repeat); none: follow the county.",
        ),
        click.option(
            "--agency",
            "agencies",
            multiple=True,
            type=click.Choice(sorted(actors.AGENCIES)),
            help="An agency that takes part locally (repeat); none: every agency.",
        ),
        click.option(
            "--process-version", type=int, help="The version new cases take; none: the default."
        ),
        click.option(
            "--retention-years",
            type=int,
            help="Years closed cases' personal data is kept (1-100); none: the service's default.",
        ),
        click.option("--follow-county", is_flag=True, help="Clear every local setting."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@authorities_group.command("add")
@click.argument("code")
@_options
@pass_context
def authorities_add(ctx: Context, code: str, **given: object) -> None:
    """Add an authority with the short name CODE (e.g. chesterfield)."""
    base = authorities.AuthorityDetails(code, "", "")
    _save(ctx, _details(base, given), None)


@authorities_group.command("set")
@click.argument("code")
@_options
@pass_context
def authorities_set(ctx: Context, code: str, **given: object) -> None:
    """Change the authority CODE: only the options given change."""
    try:
        base = authorities.details_of(authorities.get(ctx.session(), code), ctx.session())
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    _save(ctx, _details(base, given), code)


def _details(
    base: authorities.AuthorityDetails, given: dict[str, object]
) -> authorities.AuthorityDetails:
    values = vars(base).copy()
    if given.pop("follow_county"):
        values.update(
            threshold_number=None,
            threshold_window_months=None,
            timescales={},
            agencies=None,
            process_version=None,
            retention_years=None,
        )
    timescales = given.pop("timescales")
    if timescales:
        values["timescales"] = {}
        for item in timescales:  # type: ignore[attr-defined]
            task, _, days = str(item).partition("=")
            if not days.strip().isdigit():
                raise click.ClickException(f"Give a timescale as TASK=DAYS, not {item!r}.")
            values["timescales"][task.strip()] = int(days)
    agencies = given.pop("agencies")
    if agencies:
        values["agencies"] = list(agencies)  # type: ignore[call-overload]
    values.update({k: v for k, v in given.items() if v is not None})
    return authorities.AuthorityDetails(**values)


def _save(ctx: Context, details: authorities.AuthorityDetails, existing: str | None) -> None:
    try:
        authority = authorities.save(ctx.session(), details, existing)
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Saved {authority.name} ({authority.code}), references {authority.reference_prefix}-YYYY-NNNN."
    )


@authorities_group.command("assign")
@click.argument("username")
@click.argument("code", required=False)
@click.option("--county-wide", is_flag=True, help="No authority: sees every authority's cases.")
@click.option("--grant", "grants", multiple=True, help="Also see this authority's cases (repeat).")
@pass_context
def authorities_assign(
    ctx: Context, username: str, code: str | None, county_wide: bool, grants: tuple[str, ...]
) -> None:
    """Give the officer USERNAME the authority CODE (or make them county-wide)."""
    session = ctx.session()
    try:
        officer = actors.officer_account(session, username)
        authorities.set_officer_authority(
            session, officer, code, county_wide=county_wide, grants=list(grants)
        )
        session.commit()
    except TriggerWorkflowError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{username} sees the cases of: {authorities.described(session, officer)}.")
