"""R16: a review's recommendations are tracked by their owning agency until done."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ACTORS, ServiceCase
from tests.scenario import CaseDriver
from trigger_workflow.errors import FormInvalid, NotPermitted, TaskNotOpen
from trigger_workflow.samples import ANSWERS, APPEAL
from trigger_workflow.services.casework import recommendations
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Recommendation

TWO = [
    {"agency": "housing", "action": "Install noise monitoring", "target_date": "2027-01-15"},
    {"agency": "police", "action": "Visit the neighbour", "target_date": "2026-12-20"},
]


def reviewed(sessions: sessionmaker[Session], items: list[dict[str, str]] = TWO) -> ServiceCase:
    """Run a case through a review whose meeting makes these recommendations."""
    case = ServiceCase(sessions)
    case.apply()
    for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
        case.complete(step)
    case.complete("choose_agencies", {"agencies": ["police"]})
    case.complete("answer_information_request", agency="police")
    case.complete(
        "hold_review_meeting", {**ANSWERS["hold_review_meeting"], "recommendations": items}
    )
    return case


def rows(sessions: sessionmaker[Session]) -> list[Recommendation]:
    """Return every recommendation, in order."""
    with sessions() as session:
        return list(session.scalars(select(Recommendation).order_by(Recommendation.id)))


def test_r16_the_meeting_records_each_recommendation_for_its_agency(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16: completing the meeting records each recommendation with its agency, action, target
    date and number, not yet started; each agency's list holds only its own."""
    reviewed(sessions)
    found = [
        (r.review, r.number, r.agency, r.action, r.target_date, r.status) for r in rows(sessions)
    ]
    assert found == [
        (1, 1, "housing", "Install noise monitoring", date(2027, 1, 15), "open"),
        (1, 2, "police", "Visit the neighbour", date(2026, 12, 20), "open"),
    ]
    with sessions() as session:
        assert [r.agency for r in recommendations.open_for(session, ACTORS["hana"])] == ["housing"]
        assert [r.agency for r in recommendations.open_for(session, ACTORS["pete"])] == ["police"]
        assert recommendations.open_for(session, ACTORS["heath"]) == []
        assert len(recommendations.open_for(session, ACTORS["carol"])) == 2


def test_r16_the_owning_agency_updates_progress_until_done_each_update_recorded(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16: housing updates its recommendation (in progress, then done); each update is an event
    on the case; once done it leaves the list and cannot be updated again."""
    case = reviewed(sessions)
    housing = rows(sessions)[0].id
    for status, progress in (("in_progress", "Ordered the kit."), ("done", "Installed on 3 Jan.")):
        with sessions() as session:
            recommendations.update_progress(
                session,
                recommendations.UpdateProgress(
                    housing, {"status": status, "progress": progress}, ACTORS["hana"]
                ),
            )
    updates = case.events("recommendation_updated")
    assert [(e.actor, e.data["status"]) for e in updates] == [
        ("hana", "in_progress"),
        ("hana", "done"),
    ]
    assert updates[0].detail == {
        "recommendation": housing,
        "review": 1,
        "number": 1,
        "agency": "housing",
    }
    with sessions() as session:
        assert recommendations.open_for(session, ACTORS["hana"]) == []
        with pytest.raises(TaskNotOpen):
            recommendations.update_progress(
                session,
                recommendations.UpdateProgress(
                    housing, {"status": "done", "progress": "Again."}, ACTORS["hana"]
                ),
            )


def test_r16_only_the_owning_agency_may_update_and_bad_answers_change_nothing(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16, R22: the police may not update housing's recommendation, nor the coordinator; an
    update without progress is refused; nothing is written by either."""
    case = reviewed(sessions)
    housing = rows(sessions)[0].id
    before = len(case.events())
    with sessions() as session:
        for who in ("pete", "carol"):
            with pytest.raises(NotPermitted):
                recommendations.update_progress(
                    session,
                    recommendations.UpdateProgress(
                        housing, {"status": "done", "progress": "x"}, ACTORS[who]
                    ),
                )
        with pytest.raises(FormInvalid) as refusal:
            recommendations.update_progress(
                session, recommendations.UpdateProgress(housing, {"status": "done"}, ACTORS["hana"])
            )
    assert [p.path for p in refusal.value.problems] == [("progress",)]
    assert len(case.events()) == before
    assert rows(sessions)[0].status == "open"


def test_r16_a_fresh_review_adds_its_own_recommendations(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16, R19: after an upheld appeal, the fresh review's recommendations are review 2."""
    case = reviewed(sessions, TWO[:1])
    case.complete("send_outcome_notice")
    case.complete("record_appeal", APPEAL)
    upheld = {
        "appeal_decision": "upheld",
        "appeal_findings": "Ask health.",
        "enforcement_tool_only": False,
    }
    case.complete("decide_appeal", upheld)
    case.complete("choose_agencies", {"agencies": ["health"]})
    case.complete("answer_information_request", agency="health")
    fresh = [{"agency": "health", "action": "Refer to the GP", "target_date": "2027-02-01"}]
    case.complete(
        "hold_review_meeting", {**ANSWERS["hold_review_meeting"], "recommendations": fresh}
    )
    assert [(r.review, r.number, r.agency) for r in rows(sessions)] == [
        (1, 1, "housing"),
        (2, 1, "health"),
    ]


def test_r16_housing_officer_updates_progress_through_the_pages(
    client: FlaskClient, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16: the housing officer finds the recommendation in their list, is told beside the field
    when progress is missing, then marks it done; the police officer may not open it."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": ["police", "housing"]})
    for agency in ("police", "housing"):
        case.complete("Answer information request", ANSWERS["answer_information_request"], agency)
    case.complete("Hold review meeting", ANSWERS["hold_review_meeting"])
    [recommendation] = rows(sessions)
    case.act_as("hana")
    listing = client.get("/recommendations").text
    assert "Install noise monitoring" in listing and case.reference in listing
    url = f"/recommendations/{recommendation.id}"
    response = client.post(url, data={"status": "done"})
    assert response.status_code == 422
    assert re.search(r'id="progress-error"', response.text)
    response = client.post(url, data={"status": "done", "progress": "Monitoring installed."})
    assert response.status_code == 302
    assert "no recommendations for you to update" in client.get("/recommendations").text
    case.act_as("pete")
    assert client.get(url).status_code == 403
