"""Who is acting: an officer with a role (and agency), or a member of the public."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, TriggerWorkflowError
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

    def may_do(self, role: str, agency: str | None) -> bool:
        """Return whether this actor may work on a task for this role and agency."""
        if role != self.role:
            return False
        return agency is None or agency == self.agency


PUBLIC = Actor(username="public", role=APPLICANT, display_name="Applicant (public form)")


def officer_actor(officer: Officer) -> Actor:
    """Return the actor for an officer account."""
    return Actor(officer.username, officer.role, officer.agency, officer.display_name)


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


def add_officer(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    agency: str | None,
    password_hash: str | None = None,
) -> Actor:
    """Create an officer account with a role and, for partners, an agency."""
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
    )
    session.add(officer)
    session.commit()
    return officer_actor(officer)


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
    session: Session, username: str, display_name: str, role: str, agency: str | None
) -> Officer:
    """Change an officer's name, role and agency; a new role ends their sessions."""
    check_role(role, agency)
    if not display_name.strip():
        raise TriggerWorkflowError("Enter the officer's full name.")
    officer = officer_account(session, username)
    if (officer.role, officer.agency) != (role, agency):
        officer.session_version += 1
    officer.display_name, officer.role, officer.agency = display_name.strip(), role, agency
    session.commit()
    return officer


def set_password_hash(session: Session, username: str, password_hash: str) -> None:
    """Give an officer a new password hash and end every session they have."""
    officer = officer_account(session, username)
    officer.password_hash = password_hash
    officer.session_version += 1
    session.commit()


def set_disabled(session: Session, username: str, disabled: bool) -> None:
    """Disable (or enable again) an officer account; disabling ends every session they have."""
    officer = officer_account(session, username)
    officer.disabled = disabled
    officer.session_version += 1
    session.commit()
