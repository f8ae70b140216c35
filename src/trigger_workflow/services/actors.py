"""Who is acting: an officer with a role (and agency), or a member of the public."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, TriggerWorkflowError
from trigger_workflow.store.models import Officer

APPLICANT, COORDINATOR, PARTNER = "applicant", "coordinator", "partner"
ROLES = {
    "coordinator": "Case review coordinator",
    "partner": "Partner agency officer",
    "chair": "Review chair",
    "opcc": "OPCC appeals officer",
    "process_owner": "Process owner",
    "auditor": "Auditor",
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


def list_officers(session: Session) -> list[Actor]:
    """Return every officer, by role then name."""
    officers = session.scalars(select(Officer).order_by(Officer.role, Officer.display_name))
    return [officer_actor(o) for o in officers]


def add_officer(
    session: Session, username: str, display_name: str, role: str, agency: str | None
) -> Actor:
    """Create an officer account with a role and, for partners, an agency."""
    if role not in ROLES:
        raise TriggerWorkflowError(f"Unknown role '{role}': choose one of {', '.join(ROLES)}.")
    if agency is not None and agency not in AGENCIES:
        raise TriggerWorkflowError(
            f"Unknown agency '{agency}': choose one of {', '.join(AGENCIES)}."
        )
    if role == PARTNER and agency is None:
        raise TriggerWorkflowError("A partner agency officer needs an agency.")
    if session.scalar(select(Officer).where(Officer.username == username)) is not None:
        raise TriggerWorkflowError(f"There is already an officer '{username}'.")
    officer = Officer(username=username, display_name=display_name, role=role, agency=agency)
    session.add(officer)
    session.commit()
    return officer_actor(officer)
