"""Moving open cases to another process version: dry run, real run, refusals (issue 5, item 4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.authorities_helpers import chesterfield_case_in_review, two_authorities
from tests.process_variants import (
    acknowledgement_removed,
    relabelled,
    task_added_after_acknowledgement,
    timer_added_to_acknowledgement,
)
from tests.rules_driver import ServiceCase
from tests.scenario import ANSWERS, CaseDriver
from tests.test_rules_deadlines import london
from trigger_workflow.engine import history, rebind
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import EngineError
from trigger_workflow.samples import ANSWERS as SAMPLE_ANSWERS
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.process_owners.case_migration import MigrateCases, migrate_cases
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case, Event, Officer

OWEN = Actor("owen", "process_owner")


def _case(sessions: sessionmaker[Session], reference: str) -> Case:
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        session.expunge(case)
        return case


def _version_number(sessions: sessionmaker[Session], reference: str) -> int:
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return case.process_version.number


def _events(sessions: sessionmaker[Session], reference: str) -> list[Event]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Event).join(Case).where(Case.reference == reference).order_by(Event.seq)
            )
        )


def _to_come(sessions: sessionmaker[Session], reference: str) -> list[tuple[str, str, str]]:
    """Return the tasks not yet done of a case's workflow: (process, task, state), sorted."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        workflow = load_workflow(case)
        return sorted(
            (t.workflow.spec.name, t.task_spec.name, TaskState.get_name(t.state))
            for t in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK)
        )


def _complete_by_api(
    client: FlaskClient, driver: CaseDriver, name: str, data: dict[str, object]
) -> None:
    """Complete a task the scenario helper does not know by name, as the coordinator."""
    driver.act_as("carol")
    task = driver.task_id(name)
    response = client.post(f"/api/cases/{driver.reference}/tasks/{task}", json={"data": data})
    assert response.status_code == 200, response.text
    driver.check_round_trip()


def test_dry_run_lists_a_relabelled_waiting_task_as_movable_and_changes_nothing(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """A dry run says a case waiting on a task whose label changed can move, and moves nothing."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    driver.act_as("carol")
    before = _case(sessions, reference)
    processes.deploy(session, relabelled(process_files), "owen")
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=True))
    assert [m.reference for m in report.movable] == [reference]
    assert report.movable[0].waiting == ["Acknowledge application"]
    assert report.not_movable == []
    after = _case(sessions, reference)
    assert after.process_version_id == before.process_version_id
    assert after.workflow_state == before.workflow_state
    assert [e.kind for e in _events(sessions, reference)][-1] != "migrated"


def test_migration_moves_a_relabelled_case_records_an_event_and_the_case_runs_on(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """A moved case is on the new version, its open task has the new label, and it carries on."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    driver.act_as("carol")
    v2 = processes.deploy(session, relabelled(process_files), "owen").version
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert [m.reference for m in report.movable] == [reference]
    case = _case(sessions, reference)
    assert case.process_version_id == v2.id
    assert driver.open_tasks() == ["Acknowledge the application"]
    fresh = CaseDriver(client, sessions).apply()
    assert _to_come(sessions, reference) == _to_come(sessions, fresh)
    driver.act_as("carol")
    last = _events(sessions, reference)[-1]
    assert (last.kind, last.actor) == ("migrated", "owen")
    assert last.detail["from_version"] == 1 and last.detail["to_version"] == 2
    driver.check_round_trip()
    _complete_by_api(
        client, driver, "Acknowledge the application", ANSWERS["Acknowledge application"]
    )
    assert driver.open_tasks() == ["Record qualifying complaints"]


def test_r5_migration_adds_a_task_placed_after_the_waiting_one(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """A case moved while acknowledging reaches the task the new version added after it (R5)."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    driver.act_as("carol")
    processes.deploy(session, task_added_after_acknowledgement(process_files), "owen")
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert [m.reference for m in report.movable] == [reference]
    fresh = CaseDriver(client, sessions).apply()
    assert _to_come(sessions, reference) == _to_come(sessions, fresh)
    driver.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    assert driver.open_tasks() == ["Confirm named contact"]
    _complete_by_api(client, driver, "Confirm named contact", {"contact_confirmed": True})
    assert driver.open_tasks() == ["Record qualifying complaints"]
    driver.check_round_trip()


def test_r5_a_moved_case_keeps_its_due_timer_and_escalates_when_the_worker_fires_it(
    sessions: sessionmaker[Session],
    session: Session,
    deployed: processes.DeployResult,
    process_files: ProcessFiles,
) -> None:
    """R5: a case moved while its acknowledgement waits keeps the overdue timer it had (due at
    the end of 2 January 2026), predicts what a fresh case does, and escalates once when due."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        reference = case.apply()
    due = case.state().timer_due_at
    processes.deploy(session, relabelled(process_files), "owen")
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert [m.reference for m in report.movable] == [reference]
    assert _version_number(sessions, reference) == 2
    assert case.state().timer_due_at == due == datetime(2026, 1, 3, 0, 0, tzinfo=UTC)
    fresh = ServiceCase(sessions)
    with time_machine.travel(london(2025, 12, 23, 10, 0), tick=False):
        fresh.apply()
    assert _to_come(sessions, reference) == _to_come(sessions, fresh.reference)
    with time_machine.travel(london(2026, 1, 2, 23, 59), tick=False):
        assert case.fire_timers() == 0
    with time_machine.travel(london(2026, 1, 3, 0, 1), tick=False):
        assert case.fire_timers() == 2  # the moved case and the fresh one
        assert case.fire_timers() == 0
    assert (
        case.open_specs() == fresh.open_specs() == ["acknowledge_application", "handle_escalation"]
    )
    assert _to_come(sessions, reference) == _to_come(sessions, fresh.reference)
    [fired] = case.events("timer_fired")
    fired_tasks = [step["task"] for step in fired.detail["automatic"]]
    assert "acknowledge_application_overdue" in fired_tasks
    case.complete("acknowledge_application")
    assert "record_complaints" in case.open_specs()


def test_a_case_whose_waiting_task_gains_a_timer_is_refused_with_the_reason(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """A waiting task the new version gives another boundary timer cannot move: it would never
    wait on the new timer; dry run and real run both say so and leave the case on its version."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    before = _case(sessions, reference)
    processes.deploy(session, timer_added_to_acknowledgement(process_files), "owen")
    for dry_run in (True, False):
        report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=dry_run))
        assert report.movable == []
        [refused] = report.not_movable
        assert any(
            "boundary events 'acknowledge_application_overdue' here" in r
            and "'acknowledge_application_reminder'" in r
            for r in refused.reasons
        ), refused.reasons
    after = _case(sessions, reference)
    assert (after.process_version_id, after.workflow_state) == (
        before.process_version_id,
        before.workflow_state,
    )


def test_a_case_waiting_on_a_removed_task_is_refused_with_the_reason_and_left_untouched(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """Dry run and real run both refuse a case whose waiting task the new version removed."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    driver.act_as("carol")
    before = _case(sessions, reference)
    events_before = len(_events(sessions, reference))
    processes.deploy(session, acknowledgement_removed(process_files), "owen")
    for dry_run in (True, False):
        report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=dry_run))
        assert report.movable == []
        [refused] = report.not_movable
        assert refused.reference == reference
        assert any(
            "acknowledge_application" in r and "no such task" in r for r in refused.reasons
        ), refused.reasons
    after = _case(sessions, reference)
    assert after.process_version_id == before.process_version_id
    assert after.workflow_state == before.workflow_state
    assert after.lock_version == before.lock_version
    assert len(_events(sessions, reference)) == events_before
    assert driver.open_tasks() == ["Acknowledge application"]


def test_a_real_run_moves_the_cases_that_can_move_and_leaves_the_rest(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a task removed, a case waiting on it is refused; a case past it moves, unless its
    state still holds the finished stage (saved before issue 15), whose history names it.

    The case waiting on acknowledgement cannot move. A case past it has the finished stage left
    out of its state (engine/history.py): nothing in it names the removed task, so it moves. One
    saved as before issue 15, the finished stage kept, is refused as it was: its completed task
    would name a spec the new version lacks. First a version that only relabels: all move.
    """
    first = CaseDriver(client, sessions)
    waiting = first.apply()
    first.act_as("carol")
    second = CaseDriver(client, sessions)
    past = second.apply()
    second.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    third = CaseDriver(client, sessions)
    kept = third.apply()
    with monkeypatch.context() as patch:  # saved as before issue 15: finished stages kept
        patch.setattr(history, "finished_stages", lambda workflow: set())
        third.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    done_task = '"task_spec":"acknowledge_application"'
    assert done_task not in _case(sessions, past).workflow_state
    assert done_task in _case(sessions, kept).workflow_state
    processes.deploy(session, relabelled(process_files), "owen")
    with monkeypatch.context() as patch:  # the move saves the state as it finds it
        patch.setattr(history, "finished_stages", lambda workflow: set())
        report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert sorted(m.reference for m in report.movable) == sorted([waiting, past, kept])
    processes.deploy(session, acknowledgement_removed(process_files), "owen")
    report = migrate_cases(session, MigrateCases(2, 3, OWEN, dry_run=False))
    refused = {m.reference: m.reasons for m in report.not_movable}
    assert set(refused) == {waiting, kept}
    assert any("was done here" in r for r in refused[kept])
    assert [m.reference for m in report.movable] == [past]
    with sessions() as s:
        numbers = {c.reference: c.process_version.number for c in s.scalars(select(Case)).all()}
    assert numbers == {waiting: 2, past: 3, kept: 2}
    second.act_as("carol")
    second.complete("Record qualifying complaints", ANSWERS["Record qualifying complaints"])
    assert second.open_tasks() == ["Decide threshold"]


def test_r14_a_case_in_the_parallel_information_requests_moves_and_runs_on(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """A case inside a called stage, waiting on per-agency tasks, moves and finishes them (R14)."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    driver.act_as("carol")
    driver.advance_to("Choose agencies")
    driver.complete("Choose agencies", ANSWERS["Choose agencies"])
    waiting = driver.open_tasks()
    to_come = _to_come(sessions, reference)
    processes.deploy(session, relabelled(process_files), "owen")
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert [m.reference for m in report.movable] == [reference]
    assert driver.open_tasks() == waiting
    # A relabelling changes no task: the tasks to come (timers' included) are as before the move.
    assert _to_come(sessions, reference) == to_come
    driver.check_round_trip()
    for agency in ANSWERS["Choose agencies"]["agencies"]:
        driver.complete(
            "Answer information request", SAMPLE_ANSWERS["answer_information_request"], agency
        )
    assert driver.open_tasks() == ["Hold review meeting"]
    state = json.loads(_case(sessions, reference).workflow_state)
    assert state["subprocesses"]


def test_a_case_the_engine_cannot_move_is_reported_and_the_others_still_move(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One transaction per case: a failure moving one case leaves it whole and moves the next."""
    failing = CaseDriver(client, sessions)
    failing.apply()
    moving = CaseDriver(client, sessions)
    moving.apply()
    before = _case(sessions, failing.reference)
    processes.deploy(session, relabelled(process_files), "owen")
    real_move = rebind.move
    calls = []

    def move_but_fail_the_first(workflow: Any, target: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise EngineError("The case could not be moved: injected failure")
        return real_move(workflow, target)

    monkeypatch.setattr(rebind, "move", move_but_fail_the_first)
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert [m.reference for m in report.movable] == [moving.reference]
    [refused] = report.not_movable
    assert refused.reference == failing.reference and "injected failure" in refused.reasons[0]
    after = _case(sessions, failing.reference)
    assert (after.process_version_id, after.workflow_state, after.lock_version) == (
        before.process_version_id,
        before.workflow_state,
        before.lock_version,
    )
    assert _version_number(sessions, moving.reference) == 2


def test_a_case_changed_by_someone_else_during_its_move_is_left_as_they_left_it(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case's version counter is checked: a change in between makes the move a conflict."""
    driver = CaseDriver(client, sessions)
    reference = driver.apply()
    processes.deploy(session, relabelled(process_files), "owen")
    real_move = rebind.move

    def move_after_a_change(workflow: Any, target: Any) -> Any:
        # Another writer's change, as the version counter sees it (same transaction: no lock wait).
        session.execute(
            update(Case)
            .where(Case.reference == reference)
            .values(lock_version=Case.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
        return real_move(workflow, target)

    monkeypatch.setattr(rebind, "move", move_after_a_change)
    report = migrate_cases(session, MigrateCases(1, 2, OWEN, dry_run=False))
    assert report.movable == []
    [refused] = report.not_movable
    assert "Someone else changed this case" in refused.reasons[0]
    assert _version_number(sessions, reference) == 1
    assert [e.kind for e in _events(sessions, reference)][-1] != "migrated"


def test_a_councils_process_owner_moves_only_that_councils_cases(
    app: Flask,
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """Issue 12: Chesterfield's process owner sees and moves Chesterfield's open cases only —
    Derby's case on the same version stays where it is; a county-wide owner may move one
    council's cases by choosing it."""
    county = two_authorities(sessions)
    derby = ServiceCase(sessions).apply()  # entered by Derby's coordinator
    chesterfield = chesterfield_case_in_review(session, county)
    session.commit()
    processes.deploy(session, relabelled(process_files), "owen")
    paul = app.test_client()
    CaseDriver(paul, sessions).act_as("paul")
    checked = paul.get("/processes/migrate?from=1&to=2")
    assert checked.status_code == 200
    assert chesterfield in checked.text and derby not in checked.text
    assert 'id="authority"' not in checked.text  # one council: nothing to choose
    assert "1 open" in paul.get("/processes/migrate").text  # version 1's open cases: his one
    moved = paul.post("/processes/migrate?from=1&to=2", data={})
    assert moved.status_code == 200, moved.text[:1000]
    assert _version_number(sessions, chesterfield) == 2
    assert _version_number(sessions, derby) == 1
    assert paul.get("/processes/migrate?from=1&to=2&authority=derby-city").status_code == 404
    report = migrate_cases(
        session, MigrateCases(1, 2, OWEN, dry_run=True, authority_id=county.derby)
    )
    assert [m.reference for m in report.movable] == [derby]


def test_a_councils_process_owner_deploys_for_that_council_and_the_county_keeps_its_version(
    app: Flask,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """Issue 12: Chesterfield's process owner deploys an edited form: Chesterfield's new cases
    take the new version, Derby's (following the county) stay on the county's, and the log says
    for whom; the county's owner then deploys for the county, which Chesterfield, having its own
    version, does not take until its administrator makes it follow the county again."""
    county = two_authorities(sessions)
    paul = app.test_client()
    CaseDriver(paul, sessions).act_as("paul")
    name = "forms/record_appeal.json"
    text = process_files.files[name].replace('"properties": {', '"properties": {"x": {"type": "string"}, ', 1)  # fmt: skip
    deployed = paul.post(f"/processes/1/edit/{name}", data={"content": text, "action": "deploy"})
    assert deployed.status_code == 302, deployed.text[:2000]
    index = paul.get("/processes").text
    assert "deployed version 2 for Chesterfield Borough Council (paul)" in index
    assert "You deploy for Chesterfield Borough Council" in index
    with sessions() as s:
        assert processes.latest_version(s).number == 1  # the county's
        chf = chesterfield_case_in_review(s, county)
    assert _version_number(sessions, chf) == 2
    derby = ServiceCase(sessions).apply()
    assert _version_number(sessions, derby) == 1
    owen_view = app.test_client()
    with sessions() as s:  # Owen: the county's process owner
        officer = s.scalar(select(Officer).where(Officer.username == "owen"))
        assert officer is not None
        officer.county_wide, officer.authority_id = True, None
        s.commit()
    CaseDriver(owen_view, sessions).act_as("owen")
    assert "You deploy for the county" in owen_view.get("/processes").text
    third = text.replace('"x": {"type": "string"}', '"y": {"type": "string"}')
    owen_view.post(f"/processes/1/edit/{name}", data={"content": third, "action": "deploy"})
    with sessions() as s:
        assert processes.latest_version(s).number == 3
        chf_again = chesterfield_case_in_review(s, county)
    assert _version_number(sessions, ServiceCase(sessions).apply()) == 3
    assert _version_number(sessions, chf_again) == 2
