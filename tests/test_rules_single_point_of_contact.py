"""R4: the council is the single point of contact — every application is received by its
coordinator, and shared with the relevant bodies once they are chosen for the review."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.samples import APPLICATION
from trigger_workflow.store.models import Case, Event, OpenTask


def test_r4_every_application_is_received_by_the_council_coordinator(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """An application sent through the public form arrives with the council: its only open task
    is the coordinator's acknowledgement, in the coordinator's task list, with no agency; the
    whole application is recorded on the case; no partner agency has a task on it or can open it."""
    case = CaseDriver(client, sessions)
    case.apply()
    with sessions() as session:
        stored = session.scalar(select(Case).where(Case.reference == case.reference))
        assert stored is not None
        tasks = session.scalars(select(OpenTask).where(OpenTask.case_id == stored.id)).all()
        assert [(t.task_spec, t.role, t.agency) for t in tasks] == [
            ("acknowledge_application", "coordinator", None)
        ]
        received = session.scalar(
            select(Event).where(Event.case_id == stored.id, Event.kind == "task_completed")
        )
        assert received is not None and received.task_spec == "submit_application"
        assert received.data["applicant"]["name"] == APPLICATION["applicant"]["name"]
    case.act_as("carol")
    assert case.reference in client.get("/tasks").text
    for partner in ("pete", "hana", "heath"):
        case.act_as(partner)
        assert case.reference not in client.get("/tasks").text
        assert client.get(f"/cases/{case.reference}").status_code == 404


def test_r4_the_council_shares_the_application_with_each_body_chosen_for_the_review(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Once the coordinator chooses police and housing, each gets its own request and sees the
    application (the applicant's details on the case page); health, not chosen, still does not."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    for partner in ("pete", "hana"):
        case.act_as(partner)
        page = client.get(f"/cases/{case.reference}")
        assert page.status_code == 200
        assert APPLICATION["applicant"]["name"] in page.text
        assert "Answer information request" in client.get("/tasks").text
    case.act_as("heath")
    assert client.get(f"/cases/{case.reference}").status_code == 404
