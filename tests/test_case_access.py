"""R22: a partner agency sees only the cases shared with it; partners' and auditors' views are
logged; tasks are offered by lane role, and partner tasks only to their agency."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.services.accounts import access, actors
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.store.models import Case, CaseView

HOLD_MEETING = ANSWERS["Hold review meeting"]


def at_review(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    """Return a case whose coordinator chose police and housing for the review."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    return case


def views(sessions: sessionmaker[Session]) -> list[tuple[str, str, str | None, str]]:
    """Return every logged view: who, role, agency, what."""
    with sessions() as session:
        rows = session.scalars(select(CaseView).order_by(CaseView.id))
        return [(v.username, v.role, v.agency, v.what) for v in rows]


def shared(sessions: sessionmaker[Session], reference: str) -> list[str]:
    """Return the agencies a case is shared with."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return access.shared_with(session, case)


def test_r22_case_is_shared_with_an_agency_once_chosen_for_the_review(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Before the review the police get 404 for the case and it is not in their list; once the
    coordinator chooses police and housing, both see it, and health still does not."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("pete")
    assert client.get(f"/cases/{case.reference}").status_code == 404
    assert case.reference not in client.get("/cases").text
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    assert shared(sessions, case.reference) == ["housing", "police"]
    for username in ("pete", "hana"):
        case.act_as(username)
        assert client.get(f"/cases/{case.reference}").status_code == 200
        assert case.reference in client.get("/cases").text
    case.act_as("heath")
    assert client.get(f"/cases/{case.reference}").status_code == 404
    assert client.get(f"/api/cases/{case.reference}").status_code == 404
    assert case.reference not in client.get("/cases").text


def test_r22_missing_and_unshared_cases_look_the_same_to_a_partner(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A partner cannot tell a case that exists but is not theirs from one that does not exist."""
    case = at_review(client, sessions)
    case.act_as("heath")
    client.get("/tasks")  # shows (and so clears) the "signed in" message
    unshared = client.get(f"/cases/{case.reference}")
    missing = client.get("/cases/CT-2099-9999")
    assert unshared.status_code == missing.status_code == 404
    assert _main(unshared.text).replace(case.reference, "REF") == _main(missing.text).replace(
        "CT-2099-9999", "REF"
    )


def _main(page: str) -> str:
    """Return the page's main content (the header holds per-response tokens)."""
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def test_r22_agency_owning_a_recommendation_is_brought_into_the_case(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """An agency not chosen for the review but given a recommendation to act on sees the case."""
    with sessions() as session:
        actors.add_officer(session, "eve", "Eve Environmental", "partner", "environmental_health")
    case = at_review(client, sessions)
    for agency in ("police", "housing"):
        case.complete("Answer information request", ANSWERS["Answer information request"], agency)
    case.act_as("eve")
    assert client.get(f"/cases/{case.reference}").status_code == 404
    recommendation = {
        "agency": "environmental_health",
        "action": "Noise survey",
        "target_date": "2027-01-20",
    }
    case.complete("Hold review meeting", dict(HOLD_MEETING, recommendations=[recommendation]))
    assert "environmental_health" in shared(sessions, case.reference)
    case.act_as("eve")
    assert client.get(f"/cases/{case.reference}").status_code == 200


def test_r22_partner_views_of_personal_data_are_logged(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The police officer's views of the case page, their task page and the JSON API are each
    logged with who, role, agency and what; the coordinator's views are not."""
    case = at_review(client, sessions)
    client.get(f"/cases/{case.reference}")  # carol: not logged
    case.act_as("pete")
    task = case.task_id("Answer information request", "police")  # through the JSON API
    assert client.get(f"/tasks/{task}").status_code == 200
    assert client.get(f"/cases/{case.reference}").status_code == 200
    logged = views(sessions)
    assert [v[:3] for v in logged] == [("pete", "partner", "police")] * 3
    assert [v[3] for v in logged] == [
        "JSON API case",
        "task 'Answer information request'",
        "case page",
    ]


def test_r22_auditor_views_are_logged_and_refused_views_are_not(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The auditor's view of a case and of the case list is logged; a partner's refused (404)
    attempt shows nothing, so logs nothing."""
    case = at_review(client, sessions)
    case.act_as("heath")
    assert client.get(f"/cases/{case.reference}").status_code == 404
    assert views(sessions) == []
    case.act_as("ada")
    assert client.get("/cases").status_code == 200
    assert client.get(f"/cases/{case.reference}").status_code == 200
    assert views(sessions) == [
        ("ada", "auditor", None, "case list"),
        ("ada", "auditor", None, "case page"),
    ]


def test_tasks_are_offered_by_lane_role_and_partner_tasks_by_agency(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Each officer's task list holds only their lane's tasks; each information request goes
    only to its own agency's officers."""
    case = at_review(client, sessions)
    lists = {}
    for username in ("carol", "pete", "hana", "heath", "ingrid"):
        case.act_as(username)
        page = client.get("/tasks").text
        lists[username] = (page.count("Answer information request"), case.reference in page)
    assert lists == {
        "carol": (0, False),
        "pete": (1, True),
        "hana": (1, True),
        "heath": (0, False),
        "ingrid": (0, False),
    }
    case.act_as("pete")
    housing_task = case.task_id("Answer information request", "housing")
    assert client.get(f"/tasks/{housing_task}").status_code == 403


def test_actor_may_do_matches_role_and_agency() -> None:
    """A task for a role (and agency) is offered to that role (of that agency) only."""
    pete = Actor("pete", "partner", "police")
    assert pete.may_do("partner", "police")
    assert not pete.may_do("partner", "housing")
    assert not pete.may_do("coordinator", None)
    assert Actor("carol", "coordinator", "council").may_do("coordinator", None)


def test_agencies_named_in_answers() -> None:
    """Chosen agencies and recommendation owners count; unknown names and odd shapes do not."""
    data = {
        "agencies": ["police", "nonsense", 3],
        "recommendations": [{"agency": "housing"}, {"action": "no agency"}, "text"],
    }
    assert access.agencies_named(data) == {"police", "housing"}
    assert access.agencies_named({"agencies": "police"}) == set()
