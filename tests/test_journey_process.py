"""Journeys through the process in a real Chromium (issue 10), axe-core on every page visited.

A fresh review after an upheld appeal starts empty (R19); a threshold not met can be appealed
(R18); an agency nobody could answer for is not offered (R14).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser import check_page, fill_form, sign_in
from tests.rules_driver import ServiceCase
from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver, encode, form_schema
from tests.test_case_paths import review, start_case
from trigger_workflow.engine import calendar
from trigger_workflow.errors import FormInvalid
from trigger_workflow.samples import APPEAL, THRESHOLD_NOT_MET
from trigger_workflow.services.casework import labels
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Event, Recommendation

UPHELD = {
    "appeal_decision": "upheld",
    "appeal_findings": "Health was not asked for information.",
    "enforcement_tool_only": False,
}


def _open_task(page: Page, base_url: str, case: CaseDriver, name: str) -> None:  # noqa: F811
    page.goto(f"{base_url}/tasks/{case.task_id(name)}")
    expect(page.locator("h1")).to_have_text(name)


def test_r19_fresh_review_after_an_upheld_appeal_starts_empty(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    client: FlaskClient,
    sessions: sessionmaker[Session],
) -> None:
    """R16, R18, R19: after an upheld appeal, the fresh round's forms start empty (the earlier
    answers shown read only), its recommendations are listed once each, and no second appeal is
    recorded that the officer did not give."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    review(case)
    case.complete("Record appeal", APPEAL)
    case.complete("Decide appeal", UPHELD)
    assert case.open_tasks() == ["Choose agencies"]

    sign_in(page, base_url, "carol")
    _open_task(page, base_url, case, "Choose agencies")
    expect(page.locator('[name="agencies"]:checked')).to_have_count(0)
    expect(page.locator("#instructions")).to_contain_text("Health was not asked for information.")
    expect(page.locator("#earlier-round")).to_contain_text("earlier round")
    check_page(page, "journey-fresh-choose-agencies")
    page.locator('[name="agencies"][value="police"]').check()
    page.locator('[name="agencies"][value="health"]').check()
    page.locator("#submit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    for agency in ("police", "health"):
        case.complete("Answer information request", ANSWERS["Answer information request"], agency)

    page.context.clear_cookies()
    sign_in(page, base_url, "ingrid")
    _open_task(page, base_url, case, "Hold review meeting")
    expect(page.locator('[name="chair_name"]')).to_have_value("")
    expect(page.locator('[name="recommendations.0.action"]')).to_have_count(0)
    page.locator("#earlier-round summary").click()
    expect(page.locator("#earlier-round")).to_contain_text("Install noise monitoring")
    check_page(page, "journey-fresh-meeting")
    meeting = {
        **ANSWERS["Hold review meeting"],
        "recommendations": [
            {"agency": "health", "action": "Refer to the GP", "target_date": "2027-02-01"}
        ],
    }
    fill_form(page, encode(form_schema("hold_review_meeting.json"), meeting))
    page.locator("#submit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    case.complete("Send outcome notice", ANSWERS["Send outcome notice"])

    page.context.clear_cookies()
    sign_in(page, base_url, "carol")
    _open_task(page, base_url, case, "Record appeal")
    expect(page.locator('[name="appeal_received"]:checked')).to_have_count(0)
    expect(page.locator('[name="appeal_grounds"]')).to_have_value("")
    check_page(page, "journey-fresh-record-appeal")
    page.locator("#submit").click()  # nothing chosen: refused, nothing recorded
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "journey-fresh-record-appeal-errors")
    page.locator('[name="appeal_received"][value="false"]').check()
    page.locator("#submit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    assert (case.case()["status"], case.case()["outcome"]) == ("closed", "Closed: no appeal")

    page.goto(base_url + "/recommendations")
    rows = page.locator("#recommendation-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Install noise monitoring")).to_have_count(1)
    expect(rows.filter(has_text="Refer to the GP")).to_have_count(1)
    check_page(page, "journey-fresh-recommendations")
    with sessions() as session:
        rounds = session.execute(select(Recommendation.review, Recommendation.action)).all()
        appeals = session.scalars(
            select(Event.data).where(Event.task_spec == "record_appeal").order_by(Event.seq)
        ).all()
    assert sorted(rounds) == [(1, "Install noise monitoring"), (2, "Refer to the GP")]
    assert appeals == [APPEAL, {"appeal_received": False}]


def test_r18_threshold_not_met_is_appealed_and_confirmed(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    client: FlaskClient,
    sessions: sessionmaker[Session],
) -> None:
    """R13, R18, R19: after a threshold not met the coordinator records the applicant's appeal,
    the OPCC confirms it, and the case closes still counted as not met."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_NOT_MET)
    assert case.open_tasks() == ["Record appeal"]
    closes = calendar.add_working_days(calendar.today(), 20)

    sign_in(page, base_url, "carol")
    _open_task(page, base_url, case, "Record appeal")
    expect(page.locator("#instructions")).to_contain_text(labels.long_date(closes))
    expect(page.locator('[name="appeal_received"]:checked')).to_have_count(0)
    check_page(page, "journey-not-met-record-appeal")
    appeal = {
        "appeal_received": True,
        "appeal_received_on": calendar.today().isoformat(),
        "appeal_grounds": "The council did not count my police reports.",
    }
    fill_form(page, encode(form_schema("record_appeal.json"), appeal))
    page.locator("#submit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    check_page(page, "journey-not-met-case")

    page.context.clear_cookies()
    sign_in(page, base_url, "olu")
    _open_task(page, base_url, case, "Decide appeal")
    expect(page.locator("#instructions")).to_contain_text("did not count my police reports")
    check_page(page, "journey-not-met-decide-appeal")
    confirmed = {
        "appeal_decision": "confirmed",
        "appeal_findings": "The reports were counted; two is below the number.",
        "enforcement_tool_only": False,
    }
    fill_form(page, encode(form_schema("decide_appeal.json"), confirmed))
    page.locator("#submit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    assert (case.case()["status"], case.case()["outcome"]) == ("closed", "Threshold not met")


def test_r18_the_appeal_window_passing_closes_a_threshold_not_met(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R18: with no appeal recorded, the case closes at the end of the window's last day."""
    with time_machine.travel(calendar.end_of_day(calendar.today()), tick=False):
        case = ServiceCase(sessions)
        case.apply(received_on=calendar.today())
        for spec in ("acknowledge_application", "record_complaints"):
            case.complete(spec)
        case.complete("decide_threshold", THRESHOLD_NOT_MET)
        closes = calendar.add_working_days(calendar.today(), 20)
        assert case.data("record_appeal")["appeal_window_closes"] == closes.isoformat()
    assert case.open_specs() == ["record_appeal"]
    window_end = calendar.end_of_day(closes)
    with time_machine.travel(window_end - timedelta(minutes=1), tick=False):
        case.fire_timers()
        assert case.state().status == "open"
    with time_machine.travel(window_end + timedelta(minutes=1), tick=False):
        case.fire_timers()
    final = case.state()
    assert (final.status, final.outcome) == ("closed", "Threshold not met")
    assert case.final_data()["appeal_outcome"] == "none"


def test_r14_an_agency_without_an_active_officer_is_not_offered(
    page: Page,  # noqa: F811
    base_url: str,  # noqa: F811
    client: FlaskClient,
    sessions: sessionmaker[Session],
) -> None:
    """R14: the coordinator is offered only agencies an active officer can answer for; choosing
    one nobody could answer for is refused, saying why, and nothing is saved."""
    case = start_case(client, sessions)
    case.complete("Decide threshold", THRESHOLD_MET)
    sign_in(page, base_url, "carol")
    _open_task(page, base_url, case, "Choose agencies")
    expect(page.locator('[name="agencies"][value="police"]')).to_have_count(1)
    expect(page.locator('[name="agencies"][value="environmental_health"]')).to_have_count(0)
    expect(page.locator("main")).to_contain_text("no active officer could answer for them")
    expect(page.locator("main")).to_contain_text("Environmental health")
    check_page(page, "journey-choose-staffed-agencies")

    service = ServiceCase(sessions)
    service.reference = case.reference
    with pytest.raises(FormInvalid) as refused:
        service.complete("choose_agencies", {"agencies": ["police", "environmental_health"]})
    [problem] = refused.value.problems
    assert problem.path == ("agencies",)
    assert "No active officer of Environmental health" in problem.message
    assert service.open_specs() == ["choose_agencies"]
