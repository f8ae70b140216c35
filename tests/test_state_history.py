"""Issue 15: a saved state keeps the open work, not every round of a case (engine/history.py).

R19: each upheld appeal sends the case to a fresh review. Finished stages and finished earlier
rounds are left out of the stored state, so it (and the cost of a completion) stops growing with
the loops; the case's history stays in its events, and the replay still re-runs every round.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.rules_driver import ServiceCase
from tests.test_rules_deadlines import london
from trigger_workflow.engine import history, serialization
from trigger_workflow.samples import ANSWERS, APPEAL
from trigger_workflow.services.audit import replay
from trigger_workflow.services.casework import case_diagrams
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case, Letter

UPHELD = {
    "appeal_decision": "upheld",
    "appeal_findings": "The review did not hear the victim.",
    "enforcement_tool_only": False,
}
FRONT = ("acknowledge_application", "record_complaints", "decide_threshold")


def _review(case: ServiceCase) -> None:
    case.complete("choose_agencies")
    for agency in ("police", "housing"):
        case.complete("answer_information_request", agency=agency)
    case.complete("hold_review_meeting")
    case.complete("send_outcome_notice")


def _to_last_appeal(case: ServiceCase, loops: int) -> None:
    """Apply, meet the threshold, run `loops` upheld appeals and the last review: the case then
    waits on its last round's Record appeal."""
    case.apply()
    for step in FRONT:
        case.complete(step)
    for _ in range(loops):
        _review(case)
        case.complete("record_appeal", APPEAL)
        case.complete("decide_appeal", UPHELD)
    _review(case)


def _stored(sessions: sessionmaker[Session], reference: str) -> str:
    with sessions() as session:
        state = session.scalar(select(Case.workflow_state).where(Case.reference == reference))
    assert state is not None
    return state


def _passes(state: str, task_spec: str) -> int:
    """Return how many instances of a main-diagram task the stored state holds."""
    return sum(t["task_spec"] == task_spec for t in json.loads(state)["tasks"].values())


def _saved_again(sessions: sessionmaker[Session], reference: str) -> str:
    """Return the stored state restored and saved again (it must come back as the same text)."""
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return serialization.dump_state(load_workflow(case))


def test_r19_state_after_three_appeal_loops_is_no_bigger_than_one_and_a_half_times_none(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Three upheld appeals later the stored state holds the open stage and two passes of the
    review, not four; it restores and saves to the same text; the case closes and replays."""
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        none, three = ServiceCase(sessions), ServiceCase(sessions)
        _to_last_appeal(none, 0)
        _to_last_appeal(three, 3)
        small, large = _stored(sessions, none.reference), _stored(sessions, three.reference)
        assert len(large) <= 1.5 * len(small), (len(large), len(small))
        for reference, state in ((none.reference, small), (three.reference, large)):
            assert list(json.loads(state)["subprocesses"].values())[0]["spec"] == "appeal"
            assert len(json.loads(state)["subprocesses"]) == 1  # only the open stage
            assert _saved_again(sessions, reference) == state
        assert _passes(large, "call_case_review") == 2  # the first pass and the open round's
        assert _passes(small, "call_case_review") == 1
        three.complete("record_appeal", ANSWERS["record_appeal"])
    final = three.state()
    assert (final.status, final.outcome) == ("closed", "Closed: no appeal")
    with sessions() as session:
        result = replay.replay_case(session, three.reference)
    assert result.matches, result.divergence
    # The replay re-runs every round: the history is in the events, not in the state.
    reviews = [s for s in result.steps if s.event.task_spec == "hold_review_meeting"]
    assert len(reviews) == 4
    assert "hold_review_meeting" in reviews[0].marks.completed["case_review"]


def _events(case: ServiceCase) -> list[dict[str, Any]]:
    """Return what the case's events say, without the ids and moments that differ per run."""
    found = []
    for event in case.events():
        detail = dict(event.detail)
        detail["ready"] = [r["name"] for r in detail.get("ready", [])]
        detail.pop("process_version_id", None)
        text = json.dumps(detail, sort_keys=True).replace(case.reference, "REF")
        found.append(
            {
                "kind": event.kind,
                "task": event.task_spec,
                "actor": event.actor,
                "data": event.data,
                "detail": json.loads(text),
            }
        )
    return found


def _letters(sessions: sessionmaker[Session], reference: str) -> list[tuple[str, str, str]]:
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        letters = session.scalars(
            select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)
        )
        return [
            (
                letter.kind,
                letter.subject.replace(reference, "REF"),
                letter.html.replace(reference, "REF"),
            )
            for letter in letters
        ]


def test_r19_a_case_run_with_its_history_cut_is_the_case_run_without(
    sessions: sessionmaker[Session],
    deployed: processes.DeployResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same three loops with finished stages and rounds kept in the state (as before issue
    15) and without: the same events, letters, outcome, final data and stages on the case page."""
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        cut = ServiceCase(sessions)
        _to_last_appeal(cut, 3)
        cut.complete("record_appeal", ANSWERS["record_appeal"])
        with monkeypatch.context() as patch:
            patch.setattr(history, "finished_stages", lambda workflow: set())
            patch.setattr(history, "cut_finished_rounds", lambda workflow, tasks, dropped: None)
            kept = ServiceCase(sessions)
            _to_last_appeal(kept, 3)
            kept.complete("record_appeal", ANSWERS["record_appeal"])
    assert len(_stored(sessions, kept.reference)) > 3 * len(_stored(sessions, cut.reference))
    assert _events(cut) == _events(kept)
    assert _letters(sessions, cut.reference) == _letters(sessions, kept.reference)
    assert _letters(sessions, cut.reference)  # the outcome letters were written
    assert cut.final_data() == kept.final_data()
    with sessions() as session:
        pages = [
            case_diagrams.case_position(
                session.scalars(select(Case).where(Case.reference == c.reference)).one()
            ).stages
            for c in (cut, kept)
        ]
    assert pages[0] == pages[1]
    assert {s.status for s in pages[0]} >= {"Completed"}
    for case in (cut, kept):
        with sessions() as session:
            assert replay.replay_case(session, case.reference).matches


def test_r16_an_overdue_step_escalates_in_a_round_after_earlier_rounds_were_cut(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """R16, R19: in the third review, with the second cut out of the state, the meeting's timer
    (in the open stage) and the stage's escalation (on the main diagram) still fire."""
    case = ServiceCase(sessions)
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        case.apply()
        for step in FRONT:
            case.complete(step)
        for _ in range(2):
            _review(case)
            case.complete("record_appeal", APPEAL)
            case.complete("decide_appeal", UPHELD)
        case.complete("choose_agencies", {"agencies": ["police"]})
        case.complete("answer_information_request", agency="police")
        assert _passes(_stored(sessions, case.reference), "call_case_review") == 2
        assert case.fire_timers() == 0
    with time_machine.travel(london(2027, 1, 29, 9, 0), tick=False):
        assert case.fire_timers() == 1
    assert case.open_specs() == ["handle_escalation", "hold_review_meeting"]
    with time_machine.travel(london(2027, 1, 29, 10, 0), tick=False):
        case.complete("handle_escalation", {"escalation_action": "Chased the chair."})
        case.complete("hold_review_meeting")
        case.complete("send_outcome_notice")
        case.complete("record_appeal", ANSWERS["record_appeal"])
    assert case.state().outcome == "Closed: no appeal"
    with sessions() as session:
        result = replay.replay_case(session, case.reference)
    assert result.matches, result.divergence
