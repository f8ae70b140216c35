"""Process versions: one per content, rollback by deploying earlier content, element diffs."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.process_variants import (
    acknowledgement_removed,
    relabelled,
    task_added_after_acknowledgement,
)
from tests.scenario import CaseDriver
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import NotPermitted
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.process_owners import processes, versions
from trigger_workflow.services.process_owners.process_diff import diff
from trigger_workflow.store.models import Case, ProcessVersion


def _changes(before: ProcessFiles, after: ProcessFiles) -> set[tuple[str, str, str]]:
    return {(c.change, c.kind, c.id) for c in diff(before, after)}


def test_deploying_the_same_content_twice_makes_no_new_version(
    session: Session, deployed: processes.DeployResult, process_files: ProcessFiles
) -> None:
    """A deployment is a new version only when some file changed (its content hash)."""
    again = processes.deploy(session, process_files, "owen")
    assert (again.created, again.made_current, again.version.number) == (False, False, 1)
    changed = processes.deploy(session, relabelled(process_files), "owen")
    assert (changed.created, changed.version.number) == (True, 2)
    assert session.scalar(select(ProcessVersion.id).where(ProcessVersion.number == 3)) is None


def test_rollback_makes_new_cases_take_the_earlier_version_while_running_cases_stay(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    session: Session,
    process_files: ProcessFiles,
) -> None:
    """After a rollback to 1, a new case starts on 1, a case started on 2 stays on 2."""
    processes.deploy(session, relabelled(process_files), "owen")
    on_two = CaseDriver(client, sessions).apply()
    result = versions.rollback(session, 1, actors.find_officer(session, "owen"))
    assert (result.created, result.made_current, result.version.number) == (False, True, 1)
    on_one = CaseDriver(client, sessions).apply()
    with sessions() as s:
        numbers = {c.reference: c.process_version.number for c in s.scalars(select(Case))}
    assert numbers == {on_two: 2, on_one: 1}
    log = versions.deployments(session)
    assert [(d.number, d.kind, d.deployed_by) for d in log] == [
        (1, "rollback", "owen"),
        (2, "deploy", "owen"),
        (1, "deploy", "test"),
    ]
    assert [(v.number, v.current) for v in versions.list_versions(session)] == [
        (2, False),
        (1, True),
    ]


def test_diff_names_the_added_task_its_flows_and_its_form(process_files: ProcessFiles) -> None:
    """Adding a task after acknowledgement shows the task, its flows and its new form."""
    changes = _changes(process_files, task_added_after_acknowledgement(process_files))
    assert ("added", "user task", "confirm_named_contact") in changes
    assert ("added", "flow", "flow_confirm_end") in changes
    assert ("changed", "flow", "flow_acknowledge_application_end") in changes
    assert ("added", "form", "confirm_named_contact.json") in changes
    assert ("changed", "lane", "lane_acknowledgement_coordinator") in changes
    detail = next(
        c
        for c in diff(process_files, task_added_after_acknowledgement(process_files))
        if c.id == "flow_acknowledge_application_end"
    )
    assert [(a.name, a.before, a.after) for a in detail.attributes] == [
        ("to", "end_receipt_acknowledged", "confirm_named_contact")
    ]


def test_diff_names_the_removed_task_and_its_timescale(process_files: ProcessFiles) -> None:
    """Removing the acknowledgement shows the task, its flow and its timescale as removed."""
    changes = _changes(process_files, acknowledgement_removed(process_files))
    assert ("removed", "user task", "acknowledge_application") in changes
    assert ("removed", "flow", "flow_acknowledge_application_end") in changes
    assert ("removed", "timescale", "acknowledge_application") in changes


def test_r6_diff_shows_a_changed_decision_rule_timescale_lane_role_and_form(
    process_files: ProcessFiles,
) -> None:
    """A lower complaint count (R6), a longer timescale, a lane's role and a form's question."""
    files = dict(process_files.files)
    files["threshold.dmn"] = files["threshold.dmn"].replace(
        "&gt;= local_threshold_number", "&gt;= 2"
    )
    files["timescales.toml"] = files["timescales.toml"].replace(
        "[tasks.choose_agencies]           # R14\ndays = 5", "[tasks.choose_agencies]\ndays = 7"
    )
    files["lanes.toml"] = files["lanes.toml"].replace(
        '"Review chair" = "chair"', '"Review chair" = "coordinator"'
    )
    files["forms/record_appeal.json"] = files["forms/record_appeal.json"].replace(
        '"properties": {', '"properties": {"extra": {"type": "string"}, ', 1
    )
    found = {(c.kind, c.id): c for c in diff(process_files, ProcessFiles(files))}
    rule = found[("decision rule", "rule_count_met")]
    assert [(a.name, a.before, a.after) for a in rule.attributes] == [
        ("when", ">= local_threshold_number", ">= 2")
    ]
    timescale = found[("timescale", "choose_agencies")]
    assert [(a.name, a.before, a.after) for a in timescale.attributes] == [("days", "5", "7")]
    lane = found[("lane", "Review chair")]
    assert [(a.name, a.after) for a in lane.attributes] == [("role", "coordinator")]
    form = found[("form", "record_appeal.json")]
    assert "extra" in next(a.after for a in form.attributes if a.name == "questions")
    assert len(found) == 4


def test_the_same_files_have_no_differences(process_files: ProcessFiles) -> None:
    """Comparing a version with itself finds nothing; the first version is all additions."""
    assert diff(process_files, process_files) == []
    first = diff(None, process_files)
    assert first and {c.change for c in first} == {"added"}
    assert ("added", "user task", "decide_appeal") in {(c.change, c.kind, c.id) for c in first}


def test_only_a_process_owner_may_roll_back(
    session: Session, process_files: ProcessFiles, deployed: processes.DeployResult
) -> None:
    """The service itself refuses a rollback by anyone but a process owner; nothing changes."""
    processes.deploy(session, relabelled(process_files), "owen")
    with pytest.raises(NotPermitted, match="Only a process owner may"):
        versions.rollback(session, 1, actors.find_officer(session, "carol"))
    assert processes.latest_version(session).number == 2
