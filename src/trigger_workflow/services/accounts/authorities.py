"""Authorities as data: the councils one deployment serves, their local settings and staff.

A single-council install has one authority (made by the migration from its settings, or here on
first use of an empty database), so it needs no setup; a county adds one per council.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from trigger_workflow.errors import FieldProblem, FormInvalid, NotFound, TriggerWorkflowError
from trigger_workflow.services.accounts.actors import AGENCIES, PARTNER, Actor
from trigger_workflow.services.casework.local_rules import (
    STATUTORY_MAX_COMPLAINTS,
    STATUTORY_MAX_WINDOW_MONTHS,
)
from trigger_workflow.store.models import Authority, Case, Officer, OfficerAuthority, ProcessVersion

MAX_TIMESCALE_DAYS = 60
MAX_RETENTION_YEARS = 100  # working days: a local timescale longer than this is a typing mistake
CODE = re.compile(r"[a-z][a-z0-9-]{0,39}")
PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,7}")


@dataclass(frozen=True)
class AuthorityDetails:
    """What an administrator enters for an authority; None or empty follows the county."""

    code: str
    name: str
    reference_prefix: str
    address: str = ""
    email: str = ""
    phone: str = ""
    logo_file: str | None = None
    threshold_number: int | None = None
    threshold_window_months: int | None = None
    timescales: dict[str, int] = field(default_factory=dict)
    agencies: list[str] | None = None
    process_version: int | None = None  # a version number of the community trigger process
    retention_years: int | None = None  # years closed cases are kept (issue 13); None: default


def problems(details: AuthorityDetails) -> list[str]:
    """Return what is wrong with these details, in words, or nothing."""
    found = []
    if not CODE.fullmatch(details.code):
        found.append(
            "The short name is 1 to 40 lower-case letters, digits or hyphens, starting with a "
            "letter (for example chesterfield)."
        )
    if not details.name.strip():
        found.append("Enter the authority's name.")
    if not PREFIX.fullmatch(details.reference_prefix):
        found.append(
            "The reference prefix is 1 to 8 capital letters or digits, starting with a letter "
            "(for example CHF)."
        )
    number = details.threshold_number
    if number is not None and not 1 <= number <= STATUTORY_MAX_COMPLAINTS:
        found.append(
            f"The local threshold must be between 1 and {STATUTORY_MAX_COMPLAINTS} complaints: "
            f"the Act allows no more than {STATUTORY_MAX_COMPLAINTS}."
        )
    window = details.threshold_window_months
    if window is not None and not 1 <= window <= STATUTORY_MAX_WINDOW_MONTHS:
        found.append(
            f"The threshold window must be between 1 and {STATUTORY_MAX_WINDOW_MONTHS} months: "
            f"the Act allows no more than {STATUTORY_MAX_WINDOW_MONTHS}."
        )
    for task, days in details.timescales.items():
        if not isinstance(days, int) or not 1 <= days <= MAX_TIMESCALE_DAYS:
            found.append(
                f"The timescale for {task.replace('_', ' ')} must be 1 to {MAX_TIMESCALE_DAYS} "
                "working days."
            )
    for agency in details.agencies or []:
        if agency not in AGENCIES:
            found.append(f"Unknown agency '{agency}': choose from {', '.join(AGENCIES)}.")
    years = details.retention_years
    if years is not None and not 1 <= years <= MAX_RETENTION_YEARS:
        found.append(
            f"Closed cases are kept 1 to {MAX_RETENTION_YEARS} years, or leave it blank for the "
            "service's default."
        )
    if details.agencies is not None and not details.agencies:
        found.append("Choose at least one agency that takes part, or follow the county.")
    return found


def save(session: Session, details: AuthorityDetails, existing: str | None = None) -> Authority:
    """Add an authority, or change the one with the code `existing`; refuse bad details."""
    found = problems(details)
    if existing is None:
        default_authority(session)  # the settings' council stays the first authority
    authority = get(session, existing) if existing else Authority()
    if session.scalar(
        select(Authority).where(Authority.code == details.code, Authority.id != authority.id)
        if authority.id
        else select(Authority).where(Authority.code == details.code)
    ):
        found.append(f"There is already an authority '{details.code}'.")
    clash = select(Authority).where(Authority.reference_prefix == details.reference_prefix)
    if authority.id:
        clash = clash.where(Authority.id != authority.id)
    if session.scalar(clash) is not None:
        found.append(
            f"Another authority already uses the reference prefix {details.reference_prefix}."
        )
    if (
        authority.id
        and authority.reference_prefix != details.reference_prefix
        and session.scalar(select(func.count()).where(Case.authority_id == authority.id))
    ):
        found.append(
            "The reference prefix cannot change once the authority has cases: their references "
            "would no longer match."
        )
    version_id = _version_id(session, details.process_version, found)
    if found:
        raise TriggerWorkflowError(" ".join(found))
    authority.code, authority.name = details.code, details.name.strip()
    authority.reference_prefix = details.reference_prefix
    authority.address, authority.email = details.address.strip(), details.email.strip()
    authority.phone, authority.logo_file = details.phone.strip(), details.logo_file or None
    authority.threshold_number = details.threshold_number
    authority.threshold_window_months = details.threshold_window_months
    authority.timescales = dict(details.timescales)
    authority.agencies = sorted(details.agencies) if details.agencies is not None else None
    authority.process_version_id = version_id
    authority.retention_years = details.retention_years
    session.add(authority)
    session.commit()
    return authority


def _version_id(session: Session, number: int | None, found: list[str]) -> int | None:
    if number is None:
        return None
    from trigger_workflow.services.process_owners import processes  # noqa: PLC0415 (import cycle)

    version = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == processes.MAIN_PROCESS, ProcessVersion.number == number
        )
    )
    if version is None:
        found.append(f"There is no process version {number}.")
        return None
    return version.id


def version_numbers(session: Session) -> list[int]:
    """Return the numbers of the community trigger process's versions, newest first."""
    from trigger_workflow.services.process_owners import processes  # noqa: PLC0415 (import cycle)

    query = select(ProcessVersion.number).where(ProcessVersion.process_id == processes.MAIN_PROCESS)
    return list(session.scalars(query.order_by(ProcessVersion.number.desc())))


def details_of(authority: Authority, session: Session) -> AuthorityDetails:
    """Return an authority's details as an administrator edits them."""
    number = None
    if authority.process_version_id is not None:
        version = session.get(ProcessVersion, authority.process_version_id)
        number = version.number if version else None
    return AuthorityDetails(
        authority.code, authority.name, authority.reference_prefix, authority.address,
        authority.email, authority.phone, authority.logo_file, authority.threshold_number,
        authority.threshold_window_months, dict(authority.timescales or {}),
        list(authority.agencies) if authority.agencies is not None else None, number,
        authority.retention_years,
    )  # fmt: skip


def get(session: Session, code: str) -> Authority:
    """Return the authority with this short name, or raise NotFound."""
    authority = session.scalar(select(Authority).where(Authority.code == code))
    if authority is None:
        raise NotFound(f"There is no authority '{code}'.")
    return authority


def for_new_case(session: Session, actor: Actor, authority_id: int | None) -> Authority:
    """Return the authority a new application goes to, refusing one the officer does not serve.

    The public form names one (asked from the postcode); an officer serving one authority
    enters applications for it; with no choice, a single-council install uses its one authority.
    """
    scope = actor.authorities
    if authority_id is None and scope is not None and len(scope) == 1:
        authority_id = next(iter(scope))
    if authority_id is None:
        if scope is not None and len(scope) > 1:
            raise FormInvalid([FieldProblem(("authority",), "Choose the council")])
        return default_authority(session)
    authority = session.get(Authority, authority_id)
    if authority is None or (scope is not None and authority_id not in scope):
        raise FormInvalid(
            [FieldProblem(("authority",), "Choose a council you enter applications for")]
        )
    return authority


def choices_for(session: Session, actor: Actor) -> list[tuple[str, str, int]]:
    """Return the authorities this officer serves as (code, name, id), by name."""
    query = select(Authority.code, Authority.name, Authority.id).order_by(Authority.name)
    if actor.authorities is not None:
        query = query.where(Authority.id.in_(sorted(actor.authorities)))
    return [(code, name, id_) for code, name, id_ in session.execute(query)]


def by_code(choices: list[tuple[str, str, int]], code: Any) -> int | None:
    """Return the id of the chosen authority among these choices, or None if none was chosen."""
    return next((id_ for c, _, id_ in choices if c == code), None)


def code_of(session: Session, authority_id: int) -> str:
    """Return an authority's short name."""
    authority = session.get(Authority, authority_id)
    return authority.code if authority else ""


def agencies_for(session: Session, case: Case) -> frozenset[str]:
    """Return the agencies a case's review may ask (R14): those with an active partner officer
    who serves the case's authority (its own, by grant, or county-wide), and, where the
    authority lists the agencies taking part locally, only those."""
    serves = or_(
        Officer.county_wide.is_(True),
        Officer.authority_id == case.authority_id,
        Officer.id.in_(
            select(OfficerAuthority.officer_id).where(
                OfficerAuthority.authority_id == case.authority_id
            )
        ),
    )
    query = select(Officer.agency).where(
        Officer.role == PARTNER,
        Officer.disabled.is_(False),
        Officer.agency.is_not(None),
        serves if case.authority_id is not None else true(),
    )
    staffed = frozenset(a for a in session.scalars(query.distinct()) if a)
    authority = session.get(Authority, case.authority_id) if case.authority_id else None
    if authority is not None and authority.agencies is not None:
        return staffed & frozenset(authority.agencies)
    return staffed


def all_authorities(session: Session) -> list[Authority]:
    """Return every authority, by name."""
    return list(session.scalars(select(Authority).order_by(Authority.name)))


def default_authority(session: Session) -> Authority:
    """Return the authority a case goes to when none is chosen: the first one.

    An empty database (a fresh install made without the migration's data, an in-memory diagram
    test) gets one, made from the council details the sessions were configured with.
    """
    authority = session.scalar(select(Authority).order_by(Authority.id).limit(1))
    if authority is not None:
        return authority
    from trigger_workflow.services.mail import letters  # noqa: PLC0415 (import cycle)

    council = letters.council_of(session)
    prefix = "CT"
    code = "-".join(council.name.lower().replace("council", "").split()) or "council"
    authority = Authority(
        code=code[:40], name=council.name, reference_prefix=prefix, address=council.address,
        email=council.email, phone=council.phone, timescales={},
    )  # fmt: skip
    session.add(authority)
    session.flush()
    return authority


def set_officer_authority(
    session: Session,
    officer: Officer,
    authority: str | None,
    *,
    county_wide: bool = False,
    grants: list[str] | None = None,
) -> None:
    """Give an officer their authority (or make them county-wide) and any further grants."""
    if county_wide:
        officer.county_wide, officer.authority_id = True, None
    else:
        if authority is None:
            raise TriggerWorkflowError("Choose the officer's authority, or make them county-wide.")
        officer.county_wide, officer.authority_id = False, get(session, authority).id
    if grants is not None:
        wanted = {get(session, code).id for code in grants} - {officer.authority_id}
        officer.granted = [
            OfficerAuthority(officer_id=officer.id, authority_id=a) for a in sorted(wanted)
        ]


def described(session: Session, officer: Officer) -> str:
    """Return, in words, which authorities' cases an officer sees."""
    if officer.county_wide:
        return "County-wide: every authority"
    names = [officer.authority.name] if officer.authority else []
    names += [session.get(Authority, g.authority_id).name for g in officer.granted]  # type: ignore[union-attr]
    return ", ".join(names) or "No authority"


def settings_summary(authority: Authority) -> dict[str, Any]:
    """Return an authority's local settings in words, for its page and the CLI."""
    return {
        "Threshold": (
            f"{authority.threshold_number} complaints"
            if authority.threshold_number
            else "Follow the county"
        ),
        "Threshold window": (
            f"{authority.threshold_window_months} months"
            if authority.threshold_window_months
            else "Follow the county"
        ),
        "Timescales": ", ".join(
            f"{task.replace('_', ' ')}: {days} working days"
            for task, days in sorted((authority.timescales or {}).items())
        )
        or "Follow the county",
        "Agencies taking part": (
            ", ".join(AGENCIES[a] for a in authority.agencies if a in AGENCIES)
            if authority.agencies is not None
            else "Every agency"
        ),
        "Retention": (
            f"{authority.retention_years} years after a case closes"
            if authority.retention_years
            else "Follow the county"
        ),
    }
