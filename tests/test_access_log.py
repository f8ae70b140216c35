"""R22: views of a case's personal data by partners and auditors are logged; others' are not."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.scenario import CaseDriver
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import access_log
from trigger_workflow.store.models import Case


def test_r22_partner_and_auditor_views_are_logged_in_order(
    client, sessions, session: Session
) -> None:  # type: ignore[no-untyped-def]
    """A partner's and an auditor's views are logged with who, role, agency and what, oldest first."""
    reference = CaseDriver(client, sessions).apply()
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    assert case_id is not None
    pete = actors.find_officer(session, "pete")
    ada = actors.find_officer(session, "ada")

    assert access_log.record_view(session, case_id, pete, "case page")
    assert access_log.record_view(session, case_id, ada, "timeline")
    session.commit()

    views = access_log.views_of(session, case_id)
    assert [(v.username, v.role, v.agency, v.what) for v in views] == [
        ("pete", "partner", "police", "case page"),
        ("ada", "auditor", None, "timeline"),
    ]


def test_r22_coordinator_views_are_not_logged(client, sessions, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The coordinator, who runs the case, is not one of the roles R22 asks to log."""
    reference = CaseDriver(client, sessions).apply()
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    assert case_id is not None
    carol = actors.find_officer(session, "carol")

    assert not access_log.record_view(session, case_id, carol, "case page")
    session.commit()
    assert access_log.views_of(session, case_id) == []
