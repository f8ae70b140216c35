"""Claiming, releasing and reassigning tasks: one owner at a time, each change an event."""

from __future__ import annotations

import re
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver, encode, form_schema
from trigger_workflow.engine import calendar
from trigger_workflow.errors import NotFound, NotPermitted
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.tasks import claims, inbox
from trigger_workflow.store.models import Case, Event, OpenTask

ACK = "Acknowledge application"


def _case_with_ack(client: FlaskClient, sessions: sessionmaker[Session]) -> tuple[CaseDriver, str]:
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    return case, case.task_id(ACK)


def _events(sessions: sessionmaker[Session], reference: str, kind: str) -> list[Event]:
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        query = select(Event).where(Event.case_id == case.id, Event.kind == kind)
        return list(session.scalars(query.order_by(Event.seq)))


def test_claim_puts_the_task_in_my_tasks_and_records_an_event(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A coordinator claims from the inbox: the task moves to 'My tasks' and the case logs it."""
    case, task_id = _case_with_ack(client, sessions)
    assert task_id in client.get("/tasks?view=unclaimed").text
    assert task_id not in client.get("/tasks?view=mine").text

    response = client.post(f"/tasks/{task_id}/claim", data={"next": "/tasks?view=mine"})

    assert response.status_code == 302 and response.headers["Location"] == "/tasks?view=mine"
    mine = client.get("/tasks?view=mine").text
    assert task_id in mine and re.search(r'id="count-mine">1<', mine)
    assert task_id not in client.get("/tasks?view=unclaimed").text
    (event,) = _events(sessions, case.reference, "task_claimed")
    assert (event.actor, event.task_id, event.task_name) == ("carol", task_id, ACK)
    assert event.detail["to"] == "carol"
    assert "carol (you)" in client.get(f"/tasks/{task_id}").text


def test_claiming_a_task_someone_else_claimed_says_who_and_when(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A second claim is refused with 409 naming the holder and the time; the holder stays."""
    case, task_id = _case_with_ack(client, sessions)
    with sessions() as session:
        actors.add_officer(session, "cara", "Cara Coordinator", "coordinator", "council")
    client.post(f"/tasks/{task_id}/claim")
    case.act_as("cara")

    response = client.post(f"/tasks/{task_id}/claim")

    assert response.status_code == 409
    assert re.search(
        rf"{ACK}&#39; on case {case.reference} is already claimed by carol at \d\d:\d\d",
        response.text,
    )
    with sessions() as session:
        task = session.get(OpenTask, task_id)
        assert task is not None and task.assignee == "carol"
    assert len(_events(sessions, case.reference, "task_claimed")) == 1


def race_claims(
    sessions: sessionmaker[Session], task_id: str, *officers: actors.Actor
) -> dict[str, object]:
    """Claim one task for each officer on its own connection, all released at the same instant."""
    barrier = threading.Barrier(len(officers))
    outcomes: dict[str, object] = {}

    def take(actor: actors.Actor) -> None:
        with sessions() as session:
            barrier.wait()
            try:
                outcomes[actor.username] = claims.claim(session, claims.ClaimTask(task_id, actor))
            except claims.TaskClaimed as error:
                outcomes[actor.username] = error

    threads = [threading.Thread(target=take, args=(a,)) for a in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_officers_claiming_at_once_exactly_one_wins(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Over two real connections released together, one claim succeeds; the other is told who won."""
    with sessions() as session:
        actors.add_officer(session, "cara", "Cara Coordinator", "coordinator", "council")
        carol, cara = actors.find_officer(session, "carol"), actors.find_officer(session, "cara")
    for _ in range(5):
        case, task_id = _case_with_ack(client, sessions)

        outcomes = race_claims(sessions, task_id, carol, cara)

        won = [u for u, o in outcomes.items() if isinstance(o, claims.ClaimResult)]
        lost = [o for o in outcomes.values() if isinstance(o, claims.TaskClaimed)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert f"already claimed by {won[0]} at" in str(lost[0])
        with sessions() as session:
            task = session.get(OpenTask, task_id)
            assert task is not None and task.assignee == won[0]
        (event,) = _events(sessions, case.reference, "task_claimed")
        assert event.actor == won[0]


def test_release_gives_the_task_back_and_only_the_holder_may(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The holder releases a task to 'Unclaimed'; another coordinator asking to release it is
    refused (403), and to a partner whose agency is not in the case it does not exist (404)."""
    case, task_id = _case_with_ack(client, sessions)
    client.post(f"/tasks/{task_id}/claim")
    with sessions() as session:
        actors.add_officer(session, "zed", "Zed Coordinator", "coordinator", "council")
    case.act_as("zed")
    assert client.post(f"/tasks/{task_id}/release").status_code == 403
    case.act_as("pete")
    assert client.post(f"/tasks/{task_id}/release").status_code == 404
    case.act_as("carol")

    response = client.post(f"/tasks/{task_id}/release")

    assert response.status_code == 302
    assert task_id in client.get("/tasks?view=unclaimed").text
    (event,) = _events(sessions, case.reference, "task_released")
    assert event.detail == {"from": "carol", "to": None, "stage": "Acknowledgement"}


def test_r14_coordinator_reassigns_only_to_an_officer_of_the_right_role_and_agency(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R14: a police request goes only to police officers; the reassignment is an event."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    with sessions() as session:
        actors.add_officer(session, "paula", "Paula Police", "partner", "police")
    police_task = case.task_id("Answer information request", "police")
    case.act_as("carol")
    page = client.get(f"/tasks/{police_task}/reassign").text
    assert 'value="pete"' in page and 'value="paula"' in page and 'value="hana"' not in page

    refused = client.post(f"/tasks/{police_task}/reassign", data={"to_username": "hana"})
    assert refused.status_code == 403
    assert "cannot do &#39;Answer information request&#39;" in refused.text
    missing = client.post(f"/tasks/{police_task}/reassign", data={"to_username": ""})
    assert missing.status_code == 400 and "Select who should do this task" in missing.text

    done = client.post(
        f"/tasks/{police_task}/reassign", data={"to_username": "paula", "expected_assignee": ""}
    )

    assert done.status_code == 302
    (event,) = _events(sessions, case.reference, "task_reassigned")
    assert (event.actor, event.detail["from"], event.detail["to"]) == ("carol", None, "paula")
    assert "paula" in client.get(f"/cases/{case.reference}").text


def test_reassignment_from_a_holder_who_changed_meanwhile_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A coordinator's reassignment based on a stale page never overwrites a newer claim."""
    case, task_id = _case_with_ack(client, sessions)
    with sessions() as session:
        actors.add_officer(session, "cara", "Cara Coordinator", "coordinator", "council")
    client.post(f"/tasks/{task_id}/claim")  # carol claims after the coordinator's page was drawn

    response = client.post(
        f"/tasks/{task_id}/reassign", data={"to_username": "cara", "expected_assignee": ""}
    )

    assert response.status_code == 409
    assert "already claimed by carol" in response.text
    assert _events(sessions, case.reference, "task_reassigned") == []


def test_only_coordinators_reassign(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    """A partner officer cannot open or post the reassignment page."""
    case, task_id = _case_with_ack(client, sessions)
    case.act_as("pete")
    assert client.get(f"/tasks/{task_id}/reassign").status_code == 403
    assert (
        client.post(f"/tasks/{task_id}/reassign", data={"to_username": "carol"}).status_code == 403
    )


def test_completing_a_task_claimed_by_someone_else_is_refused(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The task page shows who holds it instead of the form; a posted answer changes nothing."""
    case, task_id = _case_with_ack(client, sessions)
    with sessions() as session:
        actors.add_officer(session, "cara", "Cara Coordinator", "coordinator", "council")
    client.post(f"/tasks/{task_id}/claim")
    case.act_as("cara")
    page = client.get(f"/tasks/{task_id}").text
    assert 'id="claimed-by-other"' in page and "carol has claimed this task" in page
    assert 'id="submit"' not in page

    fields = encode(form_schema("acknowledge_application.json"), ANSWERS[ACK])
    response = client.post(f"/tasks/{task_id}", data=dict(fields))

    assert response.status_code == 403
    assert (
        "is claimed by carol" in response.text and "Nothing you entered was saved" in response.text
    )
    assert case.open_tasks() == [ACK]
    assert [
        e for e in _events(sessions, case.reference, "task_completed") if e.task_id == task_id
    ] == []


def test_claim_of_a_completed_task_says_who_completed_it(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Claiming a task completed meanwhile says it has already been completed."""
    with sessions() as session:
        carol = actors.find_officer(session, "carol")
    case, task_id = _case_with_ack(client, sessions)
    case.complete(ACK, ANSWERS[ACK])
    with (
        sessions() as session,
        pytest.raises(NotFound, match="does not exist or has already been completed"),
    ):
        claims.claim(session, claims.ClaimTask(task_id, carol))


def test_partner_cannot_claim_a_task_not_offered_to_their_agency(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A police officer may not claim the housing provider's request on a case shared with the
    police (refused), nor the coordinator's task on a case not shared with them (not found)."""
    case, ack_id = _case_with_ack(client, sessions)
    other = CaseDriver(client, sessions)
    other.apply()
    other.act_as("carol")
    other.advance_to("Choose agencies")
    other.complete("Choose agencies", ANSWERS["Choose agencies"])  # police and housing
    housing_id = other.task_id("Answer information request", "housing")
    with sessions() as session:
        pete = actors.find_officer(session, "pete")
        with pytest.raises(NotPermitted):
            claims.claim(session, claims.ClaimTask(housing_id, pete))
        with pytest.raises(NotFound):
            claims.claim(session, claims.ClaimTask(ack_id, pete))
        counts = inbox.view_counts(session, pete, calendar.today())
    assert counts == {"team": 1, "unclaimed": 1, "mine": 0, "overdue": 0}
