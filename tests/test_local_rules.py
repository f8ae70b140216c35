"""R6, R8, R13 and issue 12: a council's own threshold number, window and timescales apply to
its cases, through the real diagrams and decision table; a case keeps the rules it was received
under; a table that reads a council's number is still held to the Act's maximum."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.scenario import CaseDriver
from tests.test_rules_threshold import (
    RECEIVED,
    THREE_QUALIFYING,
    application,
    decide,
    incident,
    refused,
    to_threshold_decision,
)
from trigger_workflow.engine import calendar
from trigger_workflow.errors import DiagramError
from trigger_workflow.services.accounts import authorities
from trigger_workflow.services.casework import local_rules
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Authority, Case, Event

TWO_QUALIFYING = application(
    incident("2026-09-01", "2026-09-02"), incident("2026-10-01", "2026-10-02", "police")
)


def set_council(sessions: sessionmaker[Session], **settings: Any) -> None:
    """Change the local settings of the council the test officers serve (Derby City)."""
    with sessions() as session:
        council = authorities.default_authority(session)
        for name, value in settings.items():
            setattr(council, name, value)
        session.commit()


def stored_case(sessions: sessionmaker[Session], reference: str) -> Case:
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        session.expunge(case)
        return case


def test_r8_a_councils_own_number_applies_to_its_cases(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R8: a council that sets its number to 2 meets the count on two qualifying complaints with
    the shipped table; the case keeps the rules, and its first event says which."""
    set_council(sessions, threshold_number=2)
    case = to_threshold_decision(sessions, TWO_QUALIFYING)
    decided = case.data("decide_threshold")
    assert (decided["count_met"], decided["threshold_number"]) == (True, 2)
    case.complete("decide_threshold", decide("met", threshold_basis="count"))
    assert case.open_specs() == ["choose_agencies"]
    assert stored_case(sessions, case.reference).local_rules == {
        "threshold_number": 2, "window_months": 6, "timescales": {}
    }  # fmt: skip
    with sessions() as session:
        started = session.scalar(
            select(Event).join(Case).where(Case.reference == case.reference, Event.seq == 1)
        )
        assert started is not None and started.kind == "case_started"
        assert started.detail["local_rules"]["threshold_number"] == 2


def test_r6_a_council_following_the_county_needs_the_acts_three(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R6: with no local number the same two complaints do not meet the count, and the officer
    is told it needs 3."""
    case = to_threshold_decision(sessions, TWO_QUALIFYING)
    decided = case.data("decide_threshold")
    assert (decided["count_met"], decided["threshold_number"]) == (False, 3)
    problems = refused(case, "decide_threshold", decide("met", threshold_basis="count"))
    assert "it needs 3 qualifying complaints" in problems[("threshold_basis",)]


def test_r8_a_changed_setting_changes_new_cases_never_a_running_one(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R8: a case received before the council lowered its number is decided by the rules it was
    received under; a case received after takes the new number."""
    before = ServiceCase(sessions)
    with time_machine.travel(RECEIVED, tick=False):
        before.apply(data=TWO_QUALIFYING)
        before.complete("acknowledge_application")
    set_council(sessions, threshold_number=2)
    with time_machine.travel(RECEIVED, tick=False):
        before.complete("record_complaints", {"agency_incidents": []})  # the table runs now
    assert before.data("decide_threshold")["count_met"] is False
    after = to_threshold_decision(sessions, TWO_QUALIFYING)
    assert after.data("decide_threshold")["count_met"] is True


def test_r8_a_councils_shorter_window_leaves_out_older_complaints(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R8: a council allowing three months between the complaints and the application counts
    two of the three complaints the Act's six months would count (the one of 2 August is older)."""
    set_council(sessions, threshold_window_months=3)
    case = to_threshold_decision(sessions, THREE_QUALIFYING)
    assert case.data("decide_threshold")["count_met"] is False
    set_council(sessions, threshold_window_months=None)  # back to the county's six months
    county = to_threshold_decision(sessions, THREE_QUALIFYING)
    assert county.data("decide_threshold")["count_met"] is True


def test_r13_a_councils_own_timescale_sets_its_due_dates(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R13: a council giving the threshold decision 15 working days from receipt (the county's
    timescales.toml gives 10) sees that due date on the task, and the county's on other steps."""
    set_council(sessions, timescales={"decide_threshold": 15})
    case = to_threshold_decision(sessions, THREE_QUALIFYING)
    received = RECEIVED.date()
    assert case.task("decide_threshold").due_on == calendar.add_working_days(received, 15)
    with time_machine.travel(RECEIVED, tick=False):
        case.complete("decide_threshold", decide("met", threshold_basis="count"))
        chosen = case.task("choose_agencies").due_on
    assert chosen == calendar.add_working_days(date(2026, 11, 20), 5)  # the county's 5 days


def test_r8_a_table_reading_the_councils_number_is_held_to_the_acts_maximum(
    process_files: processes.loader.ProcessFiles,
) -> None:
    """R8: a table asking one more than the council's number would need 4 where a council keeps
    the Act's 3: deployment refuses it, as it refuses a literal 4."""
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "&gt;= local_threshold_number</text>", "&gt;= local_threshold_number + 1</text>"
    )
    with pytest.raises(DiagramError, match="needs 4 qualifying complaints"):
        processes.check(processes.loader.ProcessFiles(files))


def test_local_rules_are_never_above_the_act_even_from_a_stored_value() -> None:
    """A council's settings are checked when saved; the rules a case takes are capped again."""
    council = Authority(threshold_number=5, threshold_window_months=12, timescales={})
    rules = local_rules.of_authority(council)
    assert (rules.threshold_number, rules.window_months) == (3, 6)
    assert local_rules.from_json(None) == local_rules.COUNTY


def test_the_authority_page_says_when_the_councils_version_sets_its_own_number(
    app: Flask, sessions: sessionmaker[Session], process_files: processes.loader.ProcessFiles
) -> None:
    """An administrator setting a council's number is told when the process version its cases
    run has a literal number in its table (so the setting is kept but not applied), and is not
    told so while the table reads the council's number; the number saved on the page applies."""
    admin = app.test_client()
    CaseDriver(admin, sessions).act_as("adam")
    with sessions() as session:
        code = authorities.default_authority(session).code
    page = admin.get(f"/admin/authorities/{code}")
    assert page.status_code == 200 and 'id="table-reads"' not in page.text
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "&gt;= local_threshold_number</text>", "&gt;= 2</text>"
    )
    with sessions() as session:
        literal = processes.deploy(session, processes.loader.ProcessFiles(files), "owen")
    page = admin.get(f"/admin/authorities/{code}")
    notice = re.search(r'id="table-reads">(.*?)</div>', page.text, re.S)
    assert notice is not None
    assert f"process version {literal.version.number}" in notice.group(1)
    assert "sets its own number for every council" in notice.group(1)
    with sessions() as session:  # back to the county's shipped table
        processes.deploy(session, process_files, "owen")
    saved = admin.post(
        f"/admin/authorities/{code}",
        data={**authority_form(sessions), "threshold_number": "2"},
    )
    assert saved.status_code == 302, saved.text[:2000]
    case = to_threshold_decision(sessions, TWO_QUALIFYING)
    assert case.data("decide_threshold")["count_met"] is True


def authority_form(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Return the authority page's fields as they stand for the test officers' council."""
    with sessions() as session:
        council = authorities.default_authority(session)
        return {
            "name": council.name, "code": council.code,
            "reference_prefix": council.reference_prefix, "agencies_follow": "yes",
            "process_version": "",
        }  # fmt: skip


def test_the_local_rules_a_case_records_are_not_personal_data(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """The case's first event names its council's rules: numbers and task names the service
    wrote, which an erasure leaves as they are (only personal leaves are sealed)."""
    set_council(sessions, threshold_number=2, timescales={"decide_threshold": 15})
    case = to_threshold_decision(sessions, TWO_QUALIFYING)
    with sessions() as session:
        started = session.scalar(
            select(Event).join(Case).where(Case.reference == case.reference, Event.seq == 1)
        )
        assert started is not None and started.personal is not None
        assert not any("local_rules" in path for path in started.personal.get("detail", {}))
