"""R21 replay by re-execution: every case rebuilds from its events; a state changed behind the engine's back is caught."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import MET, escalated_case, every_path, open_task, run_case
from tests.process_variants import relabelled
from tests.rules_driver import ServiceCase
from tests.test_rules_deadlines import london
from tests.test_worker import TIMER_FILES
from trigger_workflow.cli import main
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.samples import ANSWERS
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import replay, verify
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.process_owners.case_migration import MigrateCases, migrate_cases
from trigger_workflow.services.tasks import cases, timers
from trigger_workflow.store.models import Case, Event


def _set_state(session: Session, reference: str, change: object) -> None:
    """Rewrite a case's stored workflow state with raw SQL, as a bug or an intruder could."""
    state = session.scalar(select(Case.workflow_state).where(Case.reference == reference))
    assert state is not None
    new = change(json.loads(state))  # type: ignore[operator]
    session.execute(
        text('UPDATE "case" SET workflow_state = :state WHERE reference = :ref'),
        {"state": json.dumps(new), "ref": reference},
    )
    session.commit()
    session.expire_all()


def test_r21_every_case_replays_to_its_stored_state(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Each path (open, refused, reviewed, appealed and reviewed afresh) replays and matches."""
    references = every_path(session)
    for name, reference in references.items():
        result = replay.replay_case(session, reference)
        assert result.matches, (name, result.divergence)
        assert result.process_version == 1
        assert [s.seq for s in result.steps] == list(range(1, result.events + 1))
    upheld = replay.replay_case(session, references["appeal upheld, fresh review, confirmed"])
    assert upheld.events == 19
    last = upheld.steps[-1].marks
    assert "call_appeal" in last.completed["community_trigger"]


def test_r21_replay_shows_what_each_officer_saw(
    session: Session, deployed: processes.DeployResult
) -> None:
    """A step of the replay carries the task's data as the officer saw it before answering."""
    reference = run_case(session, MET)
    result = replay.replay_case(session, reference)
    decide = next(s for s in result.steps if s.event.task_spec == "decide_threshold")
    assert decide.seen is not None
    # Recorded at the step before, and what the decision table made of it (R6-R8).
    assert decide.seen["agency_incidents"] == ANSWERS["record_complaints"]["agency_incidents"]
    assert decide.seen["threshold_number"] == 3 and isinstance(decide.seen["count_met"], bool)
    assert "threshold_outcome" not in decide.seen
    # The review waits, and beside it the escalation boundary event armed on its call (R5).
    assert decide.marks.waiting["community_trigger"] == {
        "call_case_review",
        "case_review_step_overdue",
    }


def test_r21_state_altered_behind_the_engine_is_caught(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Changing a submitted answer inside the stored state is reported with the task and field."""
    reference = run_case(session, MET)

    def change(state: dict) -> dict:  # type: ignore[type-arg]
        for sub in state["subprocesses"].values():
            for task in sub["tasks"].values():
                if task["data"].get("threshold_outcome") == "met":
                    task["data"]["threshold_outcome"] = "not_met"
        return state

    _set_state(session, reference, change)
    result = replay.replay_case(session, reference)
    assert result.divergence is not None
    assert result.divergence.seq == 5
    assert "stored state differs" in result.divergence.message
    assert '\'threshold_outcome\' stored "not_met", replayed "met"' in result.divergence.message


def test_r21_task_state_altered_is_caught(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Marking a waiting task completed in the stored state is reported as a state difference."""
    reference = run_case(session, [])

    def change(state: dict) -> dict:  # type: ignore[type-arg]
        for sub in state["subprocesses"].values():
            for task in sub["tasks"].values():
                if task["task_spec"] == "acknowledge_application":
                    task["state"] = 64  # COMPLETED
        return state

    _set_state(session, reference, change)
    divergence = replay.replay_case(session, reference).divergence
    assert divergence is not None and "stored COMPLETED, replayed READY" in divergence.message


def test_r21_record_that_disagrees_with_the_engine_is_caught(
    session: Session, deployed: processes.DeployResult
) -> None:
    """An event whose data was changed replays differently: the first diverging event is named."""
    reference = run_case(session, MET)
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    session.execute(
        text("UPDATE event SET data = :data WHERE case_id = :case AND seq = 5"),
        {
            "data": json.dumps({"threshold_outcome": "not_met", "threshold_reasons": "x"}),
            "case": case_id,
        },
    )
    session.commit()
    session.expire_all()
    divergence = replay.replay_case(session, reference).divergence
    assert divergence is not None and divergence.seq == 5
    assert "record says stage 'Multi-agency case review'" in divergence.message


def test_r21_timer_firings_replay_at_their_recorded_moments(
    sessions: sessionmaker[Session],
) -> None:
    """A timer reached and fired replays with the engine's clock pinned to the recorded moments."""
    carol = actors.Actor("carol", "coordinator", "council")
    with sessions() as session:
        processes.deploy(session, TIMER_FILES, "test", process_id="timer_process")
        waiting = cases.start_case(session, cases.StartCase("timer_process", carol)).reference
        fired = cases.start_case(session, cases.StartCase("timer_process", carol)).reference
    later = datetime.now(UTC) + timedelta(days=6)
    with sessions() as session:
        session.execute(
            text('UPDATE "case" SET timer_due_at = :never WHERE reference = :ref'),
            {"never": datetime(2999, 1, 1, tzinfo=UTC), "ref": waiting},
        )
        session.commit()
    assert timers.fire_due_timers(sessions, now=later) == 1
    with sessions() as session:
        for reference in (waiting, fired):
            result = replay.replay_case(session, reference)
            assert result.matches, result.divergence
        event = session.scalar(select(Event).where(Event.kind == "timer_fired"))
        assert event is not None and event.detail["engine_now"] == later.isoformat()
        # Had the worker fired it a day earlier, before it was due, the case would not have moved.
        session.execute(
            text("UPDATE event SET detail = :detail WHERE id = :id"),
            {
                "detail": json.dumps(
                    event.detail | {"engine_now": (later - timedelta(days=2)).isoformat()}
                ),
                "id": event.id,
            },
        )
        session.commit()
        session.expire_all()
        divergence = replay.replay_case(session, fired).divergence
        assert divergence is not None and divergence.seq == 2
        assert "the record says stage 'Closed', the replay 'Running'" in divergence.message


def test_r21_audit_replay_command(
    database_url: str, session: Session, deployed: processes.DeployResult
) -> None:
    """`audit replay CASE` says it matches (exit 0), or where it diverges (exit 1)."""
    reference = run_case(session, MET)
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    ok = runner.invoke(main, ["audit", "replay", reference], env=env)
    assert ok.exit_code == 0, ok.output
    assert "5 events replayed on process version 1: the replay matches" in ok.output
    _set_state(session, reference, _drop_task_data)
    bad = runner.invoke(main, ["audit", "replay", reference], env=env)
    assert bad.exit_code == 1 and f"{reference}: diverges at event 5" in bad.output
    missing = runner.invoke(main, ["audit", "replay", "CT-1999-0001"], env=env)
    assert missing.exit_code == 1 and "There is no case" in missing.output


def _drop_task_data(state: dict) -> dict:  # type: ignore[type-arg]
    for task in state["tasks"].values():
        task["data"] = {"forged": True}
    return state


def test_r21_context_recorded_beside_the_answers_is_given_to_the_engine(
    session: Session, deployed: processes.DeployResult
) -> None:
    """A completion's recorded `detail.context` (data the application added) is fed on replay too."""
    reference = run_case(session, MET[:1])
    assert replay.replay_case(session, reference).matches
    event = session.scalar(select(Event).where(Event.task_spec == "acknowledge_application"))
    received = session.scalar(select(Case.received_on).where(Case.reference == reference))
    assert event is not None and received is not None
    context = event.detail["context"]
    assert context["received_on"] == received.isoformat() and "deadlines" in context
    session.execute(
        text("UPDATE event SET detail = :detail WHERE id = :id"),
        {
            "detail": json.dumps(
                event.detail | {"context": context | {"received_on": "2026-01-05"}}
            ),
            "id": event.id,
        },
    )
    session.commit()
    session.expire_all()
    divergence = replay.replay_case(session, reference).divergence
    # The replay gave the engine the altered receipt day: the stored state differs exactly there.
    assert divergence is not None
    assert (
        f'\'received_on\' stored "{received.isoformat()}", replayed "2026-01-05"'
        in divergence.message
    )


def test_r21_a_move_to_another_version_is_replayed_or_named(
    session: Session,
    deployed: processes.DeployResult,
    process_files: ProcessFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A case moved by the process owners' migration replays, on each version in turn, with their
    move; an installation without the move names the `migrated` event it cannot replay."""
    reference = run_case(session, [])
    v2 = processes.deploy(session, relabelled(process_files), "owen").version
    report = migrate_cases(
        session, MigrateCases(1, 2, actors.find_officer(session, "owen"), dry_run=False)
    )
    assert [m.reference for m in report.movable] == [reference]
    carol = actors.find_officer(session, "carol")
    for spec_name in ("acknowledge_application", "record_complaints"):
        task = open_task(session, reference, spec_name, None)
        cases.complete_task(session, cases.CompleteTask(reference, task, ANSWERS[spec_name], carol))
    result = replay.replay_case(session, reference)
    assert result.matches, result.divergence
    kinds = [s.event.kind for s in result.steps]
    assert kinds[2] == replay.MIGRATED and result.steps[2].version_id == v2.id
    assert [s.version_id for s in result.steps[:2]] == [deployed.version.id] * 2
    done = next(s for s in result.steps if s.event.task_spec == "acknowledge_application")
    assert done.event.task_name == "Acknowledge the application" and done.version_id == v2.id

    real_import = importlib.import_module

    def without_rebind(name: str, *args: object) -> object:
        if name == "trigger_workflow.engine.rebind":
            raise ImportError(name)
        return real_import(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(replay.importlib, "import_module", without_rebind)
    divergence = replay.replay_case(session, reference).divergence
    assert divergence is not None and divergence.seq == 3
    assert "cannot replay such a move" in divergence.message


def test_r5_r21_a_case_escalated_by_the_worker_replays_to_its_stored_state(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5 + R21: an acknowledgement left overdue is escalated by the worker's timer; the step and
    the escalation are done and the case is taken to its close. Replay feeds the timer firing at
    its recorded moment and each completion's recorded context (deadlines), and matches; had the
    worker's firing been recorded before the deadline, the replay says where it parts."""
    case = escalated_case(sessions)
    reference = case.reference
    closed = case.state()
    assert (closed.status, closed.outcome) == ("closed", "Closed: no appeal")
    [fired] = case.events("timer_fired")
    assert fired.detail["engine_now"] == london(2026, 1, 3, 0, 1).astimezone(UTC).isoformat()
    assert [r["name"] for r in fired.detail["ready"]] == [
        "Acknowledge application",
        "Act on an overdue step",
    ]
    with sessions() as session:
        result = replay.replay_case(session, reference)
        assert result.matches, result.divergence
        assert result.events == len(case.events())
        step = next(s for s in result.steps if s.event.kind == replay.TIMER_FIRED)
        assert sorted(step.waiting) == ["Acknowledge application", "Act on an overdue step"]
        assert "handle_escalation" in step.marks.waiting["community_trigger"]
        assert verify.verify_cases(session).broken == []
        # The worker's firing recorded a day before the acknowledgement fell due: nothing fires.
        session.execute(
            text("UPDATE event SET detail = :detail WHERE id = :id"),
            {
                "detail": json.dumps(
                    fired.detail
                    | {"engine_now": london(2026, 1, 2, 0, 1).astimezone(UTC).isoformat()}
                ),
                "id": fired.id,
            },
        )
        session.commit()
        session.expire_all()
        divergence = replay.replay_case(session, reference).divergence
        assert divergence is not None and divergence.seq == fired.seq
        assert divergence.message == (
            f"after event {fired.seq} the record says Acknowledge application, Act on an "
            "overdue step waiting, the replay Acknowledge application"
        )


def test_r5_r21_timers_already_due_when_a_step_completes_replay_in_that_step(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R5 + R21: an application entered long after it arrived is overdue at once, and so is the
    next step when the first is done; those escalations fire inside the completions (no worker),
    and the replay, pinned to each step's recorded moment with its recorded deadlines, matches."""
    case = ServiceCase(sessions)
    case.apply(received_on=date(2025, 12, 23))
    case.complete("acknowledge_application")
    assert case.open_specs() == ["handle_escalation", "handle_escalation", "record_complaints"]
    assert case.events("timer_fired") == []
    with sessions() as session:
        result = replay.replay_case(session, case.reference)
    assert result.matches, result.divergence
    assert sorted(result.steps[-1].waiting) == [
        "Act on an overdue step",
        "Act on an overdue step",
        "Record qualifying complaints",
    ]
