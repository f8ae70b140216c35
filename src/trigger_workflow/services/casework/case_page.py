"""Open a case page: the case, its tasks and history, its stages and diagrams; log R22 views."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import COORDINATOR, Actor
from trigger_workflow.services.casework import case_diagrams, queries, stalled


@dataclass(frozen=True)
class CaseOverview:
    """Everything the case page shows."""

    page: queries.CasePage
    position: case_diagrams.CasePosition
    # For the coordinator: agency tasks nobody can answer or nobody picked up (R14).
    stalled: list[stalled.StalledRequest] = field(default_factory=list)


def open_case(session: Session, reference: str, actor: Actor) -> CaseOverview:
    """Return a case for its page if this officer may see it (else 403, or 404 for a partner it
    is not shared with); a partner's or auditor's view is logged (R22)."""
    page = queries.case_page(session, reference)
    access.view_case(session, actor, page.case, "case page")
    stuck = (
        stalled.for_case(session, page.case.reference, page.open_tasks)
        if actor.role == COORDINATOR
        else []
    )
    return CaseOverview(page, case_diagrams.case_position(page.case), stuck)
