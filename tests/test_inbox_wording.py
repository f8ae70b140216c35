"""What officers read: due and overdue agree on any day (R5), escalations name their step, each
role starts on its own page, and stored values are shown in words and GOV.UK dates."""

from __future__ import annotations

import re
from datetime import date, datetime

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.engine import calendar
from trigger_workflow.samples import APPLICATION, TEST_PASSWORD
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import inbox
from trigger_workflow.store.models import Case, OpenTask

SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=calendar.UK_TIME)
FRIDAY, MONDAY = date(2026, 12, 4), date(2026, 12, 7)


def _set_due(sessions: sessionmaker[Session], reference: str, due_on: date) -> None:
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        session.execute(update(OpenTask).where(OpenTask.case_id == case_id).values(due_on=due_on))
        session.commit()


def _row_of(html: str, reference: str) -> str:
    rows = re.findall(r'<tr class="govuk-table__row" data-task-id=.*?</tr>', html, re.S)
    found = [r for r in rows if f">{reference}<" in r]
    assert len(found) == 1, f"{reference} is not listed once"
    return found[0]


def test_r5_a_task_due_on_friday_is_overdue_on_saturday_not_due_today(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R5: on Saturday 5 December 2026 a task due Friday 4th is overdue (tagged, counted, and in
    the overdue filter), never "Due today"; one due Monday 7th has 1 working day left; the
    due dates read "4 December 2026"."""
    with time_machine.travel(SATURDAY, tick=False):
        friday = CaseDriver(client, sessions).apply()
        monday = CaseDriver(client, sessions).apply()
        _set_due(sessions, friday, FRIDAY)
        _set_due(sessions, monday, MONDAY)
        CaseDriver(client, sessions).act_as("carol")
        html = client.get("/tasks").text
        late = _row_of(html, friday)
        assert "Due today" not in html
        assert "Overdue</strong>" in late and "4 December 2026" in late
        assert "1 working day left" in _row_of(html, monday) and "7 December 2026" in html
        assert re.search(r'id="count-overdue">1 overdue<', html)
        overdue = client.get("/tasks?due=overdue").text
        assert f">{friday}<" in overdue and f">{monday}<" not in overdue
        case_page = client.get(f"/cases/{friday}").text
        assert "Overdue</strong>" in case_page and "Due today" not in case_page


def test_r5_due_today_only_on_the_due_date() -> None:
    """R5: "Due today" only on the day itself; the day after (a Saturday) the task is overdue
    by 0 working days; working days left count Monday from a Saturday."""
    on_friday = inbox.due_status(FRIDAY, FRIDAY)
    on_saturday = inbox.due_status(FRIDAY, date(2026, 12, 5))
    before = inbox.due_status(MONDAY, date(2026, 12, 5))
    assert on_friday and on_friday.due_today and not on_friday.overdue
    assert on_saturday and on_saturday.overdue and not on_saturday.due_today
    assert on_saturday.working_days_late == 0
    assert before and before.working_days_left == 1 and not before.overdue


def test_r14_escalation_names_the_overdue_step_agency_case_and_stage(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R14, R5: when housing's information request is late, the coordinator's escalation says
    which step, for which agency, on which case, at which stage."""
    case = ServiceCase(sessions)
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=calendar.UK_TIME), tick=False):
        case.apply()
        for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
            case.complete(step)
        case.complete("choose_agencies", {"agencies": ["police", "housing"]})
        case.complete("answer_information_request", agency="police")
    with time_machine.travel(datetime(2026, 12, 1, 0, 30, tzinfo=calendar.UK_TIME), tick=False):
        assert case.fire_timers() == 1
    with sessions() as session:
        carol = actors.find_officer(session, "carol")
        page = inbox.inbox(session, carol, inbox.InboxQuery(), today=date(2026, 12, 5))
    [row] = [r for r in page.rows if r.task.task_spec == "handle_escalation"]
    assert row.title == (
        "Act on an overdue step: Answer information request (Housing provider), "
        f"{case.reference}, Multi-agency case review"
    )


def test_r5_escalation_of_a_late_acknowledgement_is_named(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5: an application entered long after it arrived is overdue at once: its escalation names
    the acknowledgement and the stage."""
    case = ServiceCase(sessions)
    with time_machine.travel(SATURDAY, tick=False):
        case.apply(received_on=date(2026, 11, 2))
        with sessions() as session:
            carol = actors.find_officer(session, "carol")
            page = inbox.inbox(session, carol, inbox.InboxQuery())
    titles = sorted(r.title for r in page.rows)
    assert titles == [
        "Acknowledge application",
        f"Act on an overdue step: Acknowledge application, {case.reference}, Acknowledgement",
    ]


def test_each_role_lands_on_its_own_page_after_signing_in(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Auditors start at the audit pages, process owners at the processes, administrators at the
    officers' accounts, everyone else at their tasks; a page asked for before signing in wins."""
    driver = CaseDriver(client, sessions)
    driver.act_as("carol")  # makes sure every demo officer exists with the test password
    landing = {"ada": "/audit/", "owen": "/processes", "adam": "/admin/officers", "carol": "/tasks"}
    for username, home in landing.items():
        client.post("/sign-out")
        response = client.post("/sign-in", data={"username": username, "password": TEST_PASSWORD})
        assert response.status_code == 302
        assert response.headers["Location"] == home, username
        assert client.get(home).status_code == 200
    client.post("/sign-out")
    response = client.post(
        "/sign-in?next=/cases", data={"username": "ada", "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/cases"


def test_task_and_case_pages_show_words_and_govuk_dates_not_stored_values(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The acknowledgement's instructions say "Online form" and "Large print", not "online" or
    "large_print", and no rule numbers; the case page writes the receipt day as GOV.UK does
    and how it was received in words."""
    with time_machine.travel(SATURDAY, tick=False):
        case = CaseDriver(client, sessions)
        case.apply({**APPLICATION, "needs": ["large_print"]})
        case.act_as("carol")
        task = case.task_id("Acknowledge application")
        page = client.get(f"/tasks/{task}").text
        instructions = re.search(r'id="instructions">(.*?)</div>', page, re.S)
        assert instructions is not None
        text = instructions.group(1)
        assert "Received by Online form." in text and "Needs: Large print." in text
        assert "large_print" not in text and "(R5)" not in text and not re.search(r"\bR\d+\b", text)
        shown = client.get(f"/cases/{case.reference}").text
        assert "5 December 2026" in shown and "Online form" in shown
        assert "(online)" not in shown


def test_r22_answer_form_says_who_will_see_the_answer(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22: the police officer's information request says who will read the answer."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    task = case.task_id("Answer information request", "police")
    case.act_as("pete")
    page = client.get(f"/tasks/{task}").text
    assert (
        "Your answer will be seen by the council&#39;s case review coordinator and the review "
        "chair. Other agencies will not see it." in page
    )
