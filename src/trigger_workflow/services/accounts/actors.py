"""Who is acting: an officer with a role (and agency), or a member of the public."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, TriggerWorkflowError
from trigger_workflow.services.accounts import officer_sessions, security_log
from trigger_workflow.store.models import Officer

APPLICANT, COORDINATOR, PARTNER = "applicant", "coordinator", "partner"
PROCESS_OWNER = "process_owner"
ADMINISTRATOR = "administrator"
ROLES = {
    "coordinator": "Case review coordinator",
    "partner": "Partner agency officer",
    "chair": "Review chair",
    "opcc": "OPCC appeals officer",
    "process_owner": "Process owner",
    "auditor": "Auditor",
    "administrator": "Administrator (officer accounts)",
}
AGENCIES = {
    "council": "Council ASB team",
    "police": "Police",
    "housing": "Housing provider",
    "environmental_health": "Environmental health",
    "adult_social_care": "Adult social care",
    "childrens_social_care": "Children's social care",
    "health": "Health (Integrated Care Board)",
    "independent": "Independent",
    "opcc": "Office of the Police and Crime Commissioner",
}


@dataclass(frozen=True)
class Actor:
    """The person an action is recorded against."""

    username: str
    role: str
    agency: str | None = None
    display_name: str = ""
    # The authorities whose cases this officer sees (their own and any granted); None: no
    # restriction (a county-wide officer, the public, the system).
    authorities: frozenset[int] | None = None

    def may_do(self, role: str, agency: str | None) -> bool:
        """Return whether this actor may work on a task for this role and agency."""
        if role != self.role:
            return False
        return agency is None or agency == self.agency


PUBLIC = Actor(username="public", role=APPLICANT, display_name="Applicant (public form)")


def officer_actor(officer: Officer) -> Actor:
    """Return the actor for an officer account."""
    return Actor(
        officer.username, officer.role, officer.agency, officer.display_name,
        officer_authorities(officer),
    )  # fmt: skip


def officer_authorities(officer: Officer) -> frozenset[int] | None:
    """Return the authorities whose cases an officer sees; None for a county-wide officer."""
    if officer.county_wide:
        return None
    own = {officer.authority_id} if officer.authority_id is not None else set()
    return frozenset(own | {grant.authority_id for grant in officer.granted})


def find_officer(session: Session, username: str) -> Actor:
    """Return the officer with this username as an actor, or raise NotFound."""
    officer = session.scalar(select(Officer).where(Officer.username == username))
    if officer is None:
        raise NotFound(f"There is no officer '{username}'.")
    return officer_actor(officer)


def staffed_agencies(session: Session) -> frozenset[str]:
    """Return the agencies with at least one active (not disabled) partner officer."""
    query = select(Officer.agency).where(
        Officer.role == PARTNER, Officer.disabled.is_(False), Officer.agency.is_not(None)
    )
    return frozenset(a for a in session.scalars(query.distinct()) if a)


def list_officers(session: Session) -> list[Actor]:
    """Return every officer, by role then name."""
    officers = session.scalars(select(Officer).order_by(Officer.role, Officer.display_name))
    return [officer_actor(o) for o in officers]


def active_officers(session: Session) -> list[Actor]:
    """Return the officers who may sign in (not disabled), by role then name."""
    officers = session.scalars(
        select(Officer)
        .where(Officer.disabled.is_(False))
        .order_by(Officer.role, Officer.display_name)
    )
    return [officer_actor(o) for o in officers]


def add_officer(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    agency: str | None,
    password_hash: str | None = None,
    *,
    by: str | None = None,
    address: str = "",
    authority_id: int | None = None,
    county_wide: bool = False,
) -> Actor:
    """Create an officer account with a role and, for partners, an agency.

    The officer belongs to `authority_id` (by default the first authority: a single-council
    install needs no choice), or to none if `county_wide`.
    An administrator's addition (`by`) is recorded in the security log; seeding demo or test
    officers is not.
    """
    if not USERNAME.fullmatch(username):
        raise TriggerWorkflowError(
            "A username is 1 to 100 letters, digits, dots, hyphens, underscores or @."
        )
    check_role(role, agency)
    if not display_name.strip():
        raise TriggerWorkflowError("Enter the officer's full name.")
    if session.scalar(select(Officer).where(Officer.username == username)) is not None:
        raise TriggerWorkflowError(f"There is already an officer '{username}'.")
    officer = Officer(
        username=username,
        display_name=display_name.strip(),
        role=role,
        agency=agency,
        password_hash=password_hash,
        county_wide=county_wide,
        authority_id=None if county_wide else authority_id or _first_authority(session),
    )
    session.add(officer)
    if by is not None:
        security_log.record(
            session, security_log.OFFICER_ADDED, actor=by, subject=username, address=address,
            detail=_role_text(role, agency) + ("" if password_hash else ", no password"),
        )  # fmt: skip
    session.commit()
    return officer_actor(officer)


def _first_authority(session: Session) -> int:
    from trigger_workflow.services.accounts import authorities  # noqa: PLC0415 (import cycle)

    return authorities.default_authority(session).id


USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")


def check_role(role: str, agency: str | None) -> None:
    """Refuse an unknown role or agency, or a partner without an agency, saying why."""
    if role not in ROLES:
        raise TriggerWorkflowError(f"Unknown role '{role}': choose one of {', '.join(ROLES)}.")
    if agency is not None and agency not in AGENCIES:
        raise TriggerWorkflowError(
            f"Unknown agency '{agency}': choose one of {', '.join(AGENCIES)}."
        )
    if role == PARTNER and agency is None:
        raise TriggerWorkflowError("A partner agency officer needs an agency.")


def officer_account(session: Session, username: str) -> Officer:
    """Return the officer row (with sign-in fields), or raise NotFound."""
    officer = session.scalar(select(Officer).where(Officer.username == username))
    if officer is None:
        raise NotFound(f"There is no officer '{username}'.")
    return officer


def list_accounts(session: Session) -> list[Officer]:
    """Return every officer account, by username, for administrators."""
    return list(session.scalars(select(Officer).order_by(Officer.username)))


def change_officer(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    agency: str | None,
    *,
    by: str,
    address: str = "",
) -> Officer:
    """Change an officer's name, role and agency; a new role ends their sessions everywhere."""
    check_role(role, agency)
    if not display_name.strip():
        raise TriggerWorkflowError("Enter the officer's full name.")
    officer = officer_account(session, username)
    before = _role_text(officer.role, officer.agency)
    if (officer.role, officer.agency) != (role, agency):
        officer_sessions.end_all(session, username, officer_sessions.ROLE_CHANGED)
        security_log.record(
            session, security_log.ROLE_CHANGED, actor=by, subject=username, address=address,
            detail=f"{before} to {_role_text(role, agency)}",
        )  # fmt: skip
    if officer.display_name != display_name.strip():
        security_log.record(
            session, security_log.DETAILS_CHANGED, actor=by, subject=username, address=address,
            detail=f"{officer.display_name} to {display_name.strip()}",
        )  # fmt: skip
    officer.display_name, officer.role, officer.agency = display_name.strip(), role, agency
    session.commit()
    return officer


def set_password_hash(
    session: Session, username: str, password_hash: str, *, by: str, address: str = ""
) -> None:
    """Give an officer a new password hash and end every session they have, everywhere."""
    officer = officer_account(session, username)
    officer.password_hash = password_hash
    ended = officer_sessions.end_all(session, username, officer_sessions.PASSWORD_CHANGED)
    security_log.record(
        session, security_log.PASSWORD_RESET, actor=by, subject=username, address=address,
        detail=f"{ended} session(s) ended",
    )  # fmt: skip
    session.commit()


def set_disabled(
    session: Session, username: str, disabled: bool, *, by: str, address: str = ""
) -> None:
    """Disable (or enable again) an officer account; disabling ends every session they have."""
    officer = officer_account(session, username)
    officer.disabled = disabled
    detail = ""
    if disabled:
        ended = officer_sessions.end_all(session, username, officer_sessions.DISABLED)
        detail = f"{ended} session(s) ended"
    kind = security_log.OFFICER_DISABLED if disabled else security_log.OFFICER_ENABLED
    security_log.record(session, kind, actor=by, subject=username, address=address, detail=detail)
    session.commit()


def _role_text(role: str, agency: str | None) -> str:
    return f"{role} ({agency})" if agency else role
