"""The inbox's views, counts, filters and sorting; the case list's search and pages; the case page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.engine import calendar
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import access_log
from trigger_workflow.services.casework import case_list
from trigger_workflow.services.tasks import inbox
from trigger_workflow.store.models import Case, OpenTask

ACK = "Acknowledge application"


def _apply(client: FlaskClient, sessions: sessionmaker[Session], name: str, postcode: str) -> str:
    applicant = dict(APPLICATION["applicant"], name=name, postcode=postcode)
    return CaseDriver(client, sessions).apply(dict(APPLICATION, applicant=applicant))


def _set_due(sessions: sessionmaker[Session], reference: str, due_on: date) -> None:
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        session.execute(update(OpenTask).where(OpenTask.case_id == case_id).values(due_on=due_on))
        session.commit()


def _task_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="govuk-table__row" data-task-id="([^"]+)"', html)


def test_r5_inbox_shows_working_days_left_and_marks_overdue_tasks(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R5: a task due in the past is tagged overdue with the working days it is late, and counted."""
    late = CaseDriver(client, sessions).apply()
    CaseDriver(client, sessions).apply()
    _set_due(sessions, late, date(2026, 11, 20))  # a Friday
    driver = CaseDriver(client, sessions)
    driver.act_as("carol")
    with sessions() as session:
        carol = actors.find_officer(session, "carol")
        page = inbox.inbox(session, carol, inbox.InboxQuery(), today=date(2026, 11, 24))
    later = page.rows[1]
    late_row = page.rows[0].due
    assert late_row is not None and late_row.overdue
    assert late_row.working_days_late == 2  # Monday and Tuesday after a Friday due date
    assert later.due is not None and later.task.due_on is not None
    assert later.due.working_days_left == calendar.working_days_between(
        date(2026, 11, 24), later.task.due_on
    )
    assert page.rows[0].overdue and page.overdue == "1"

    html = client.get("/tasks").text
    assert re.search(r'id="count-overdue">1 overdue<', html)
    assert re.search(r"Overdue</strong> <span[^>]*>by \d+ working days?</span>", html)
    assert re.search(r"\d+ working days? left", html)


def test_inbox_filters_by_stage_due_and_case_and_sorts(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Filtering keeps only matching tasks; sorting by latest due date reverses the order."""
    first = CaseDriver(client, sessions)
    first.apply()
    first.complete(ACK, ANSWERS[ACK])  # now at the threshold decision
    second = CaseDriver(client, sessions).apply()
    _set_due(sessions, first.reference, date(2026, 1, 5))
    first.act_as("carol")

    at_ack = client.get("/tasks?stage=Acknowledgement").text
    assert second in at_ack and first.reference not in at_ack
    overdue = client.get("/tasks?due=overdue").text
    assert first.reference in overdue and second not in overdue
    by_case = client.get(f"/tasks?case={second.lower()}").text
    assert second in by_case and first.reference not in by_case
    soonest = _task_rows(client.get("/tasks?sort=due").text)
    latest = _task_rows(client.get("/tasks?sort=-due").text)
    assert soonest == list(reversed(latest)) and len(soonest) == 2
    nothing = client.get("/tasks?view=mine&stage=Nowhere").text
    assert "No tasks match" in nothing


def test_inbox_counts_each_view(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    """The view links count the team's tasks, the unclaimed ones and the officer's own."""
    driver = CaseDriver(client, sessions)
    for _ in range(3):
        CaseDriver(client, sessions).apply()
    driver.act_as("carol")
    task_id = _task_rows(client.get("/tasks").text)[0]
    client.post(f"/tasks/{task_id}/claim")
    html = client.get("/tasks?view=mine").text
    counts = dict(re.findall(r'id="count-(team|mine|unclaimed)">(\d+)<', html))
    assert counts == {"team": "3", "mine": "1", "unclaimed": "2"}
    assert _task_rows(html) == [task_id]


def test_case_list_searches_reference_name_postcode_stage_status_and_overdue(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Each search field narrows the list to the matching cases, and says how many matched."""
    ann = _apply(client, sessions, "Ann Smith", "DE1 2AB")
    bob = _apply(client, sessions, "Bob Jones", "NG7 1XY")
    driver = CaseDriver(client, sessions)
    driver.reference = bob
    driver.complete(ACK, ANSWERS[ACK])
    _set_due(sessions, ann, date.today() - timedelta(days=10))
    driver.act_as("carol")

    def found(query: str) -> set[str]:
        html = client.get(f"/cases?{query}").text
        return set(re.findall(r'href="/cases/(CT-\d{4}-\d{4})"', html))

    assert found("") == {ann, bob}
    assert found(f"q={ann}") == {ann}
    assert found("q=smi") == {ann}
    assert found("q=ng7") == {bob}
    assert found("stage=Threshold+decision") == {bob}
    assert found("status=closed") == set()
    assert found("overdue=yes") == {ann}
    assert "1 to 1 of 1 case found" in client.get("/cases?q=jones").text
    assert "No cases match this search" in client.get("/cases?q=nobody").text


def test_case_list_pages_through_the_cases(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """With more cases than a page holds, each page shows its share and links to the next."""
    references = [CaseDriver(client, sessions).apply() for _ in range(3)]
    with sessions() as session:
        search = case_list.CaseSearch(per_page=2)
        first = case_list.search_cases(session, search)
        second = case_list.search_cases(session, case_list.CaseSearch(per_page=2, page=2))
    assert first.total == 3 and first.pages == 2
    shown = [r.case.reference for r in first.rows + second.rows]
    assert sorted(shown) == sorted(references)
    assert first.page_numbers() == [1, 2]
    many = case_list.CaseList(case_list.CaseSearch(page=10), [], 1000, [])
    assert many.page_numbers() == [1, None, 8, 9, 10, 11, 12, None, 40]


def test_case_page_shows_stages_owners_and_the_diagram_position(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The case page lists stages as a task list and draws the diagram with the waiting step marked."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete(ACK, ANSWERS[ACK])
    case.act_as("carol")
    client.post(f"/tasks/{case.task_id('Record qualifying complaints')}/claim")
    page = client.get(f"/cases/{case.reference}").text

    items = re.findall(r'<li class="govuk-task-list__item">(.*?)</li>', page, re.S)
    texts = [re.sub(r"<[^>]+>", "|", item).split("|") for item in items]
    stages = [[t.strip() for t in text if t.strip()] for text in texts]
    status = {name: state for name, state in stages}
    assert list(status)[:5] == [
        "Application",
        "Acknowledgement",
        "Threshold decision",
        "Appeal against the threshold decision",  # R18, only after not met or rejected
        "Multi-agency case review",
    ]
    assert status["Acknowledgement"] == "Completed"
    assert status["Threshold decision"] == "In progress"
    assert status["Multi-agency case review"] == "Not started"
    assert 'id="diagram-community_trigger"' in page and "<svg" in page
    assert 'id="diagram-threshold_decision"' in page
    assert "Claimed by carol: Record qualifying complaints" in page
    row = re.search(r"Record qualifying complaints</a></td>.*?</tr>", page, re.S)
    assert row is not None and "carol" in row.group(0)


def test_r22_partner_view_of_a_case_page_is_logged(
    client: FlaskClient, sessions: sessionmaker[Session], session: Session
) -> None:
    """R22: a police officer opening the page of a case shared with the police is logged; the
    coordinator's view is not."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    client.get(f"/cases/{case.reference}")
    case.act_as("pete")
    client.get(f"/cases/{case.reference}")
    case_id = session.scalar(select(Case.id).where(Case.reference == case.reference))
    assert case_id is not None
    views = access_log.views_of(session, case_id)
    assert [(v.username, v.what) for v in views] == [("pete", "case page")]


def test_inbox_counts_stop_at_the_cap(
    client: FlaskClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap a count reads 'N+' rather than scanning every task on each page view."""
    for _ in range(3):
        CaseDriver(client, sessions).apply()
    monkeypatch.setattr(inbox, "COUNT_CAP", 2)
    with sessions() as session:
        carol = actors.find_officer(session, "carol")
        page = inbox.inbox(session, carol, inbox.InboxQuery())
    assert page.counts["team"] == 3
    assert (page.count("team"), page.count("unclaimed"), page.count("mine")) == ("2+", "2+", "0")


def test_case_list_keeps_to_the_cases_the_caller_may_see(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """An access condition passed in narrows both the page and the total, searched or not."""
    first = CaseDriver(client, sessions).apply()
    CaseDriver(client, sessions).apply()
    only_first = [Case.reference == first]
    with sessions() as session:
        plain = case_list.search_cases(session, case_list.CaseSearch(), visible=only_first)
        searched = case_list.search_cases(
            session, case_list.CaseSearch(text="CT-"), visible=only_first
        )
    for found in (plain, searched):
        assert found.total == 1 and [r.case.reference for r in found.rows] == [first]
