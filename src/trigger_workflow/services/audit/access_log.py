"""Log every view of a case's personal data by a partner officer or an auditor (R22), and by a
process owner looking at the answers a failed step kept (an incident)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.store.models import CaseView

# The roles whose views of personal data are logged: those R22 names, and process owners, who see
# no cases but do see the answers an incident kept.
LOGGED_ROLES = frozenset({"partner", "auditor", "process_owner"})


def record_view(session: Session, case_id: int, actor: Actor, what: str) -> bool:
    """Log that this actor saw `what` of a case, if their role is one R22 names.

    Added to the caller's session, so the log entry is committed with the request's own work;
    returns whether anything was logged.
    """
    if actor.role not in LOGGED_ROLES:
        return False
    record_export(session, case_id, actor, what)
    return True


def record_export(session: Session, case_id: int, actor: Actor, what: str) -> None:
    """Log that this actor exported a case's personal data (a subject access request), whatever
    their role: an export leaves the service, so every one is on the case's view log."""
    session.add(
        CaseView(
            case_id=case_id,
            username=actor.username,
            role=actor.role,
            agency=actor.agency,
            what=what[:200],
        )
    )


def views_of(session: Session, case_id: int) -> list[CaseView]:
    """Return the logged views of a case, oldest first."""
    query = (
        select(CaseView)
        .where(CaseView.case_id == case_id)
        .order_by(CaseView.viewed_at, CaseView.id)
    )
    return list(session.scalars(query))
