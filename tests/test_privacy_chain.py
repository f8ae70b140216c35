"""Issue 13 with R21: personal values erased from a case's events leave a chain that verifies,
and `audit verify` tells an erasure (when, by whom, under what) from an alteration."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import time_machine
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import FRONT, MET, REVIEW, ROLE_OFFICER, Step, open_task, run_case
from tests.scenario import CaseDriver
from trigger_workflow.cli import main
from trigger_workflow.samples import AGENCY_OFFICER, ANSWERS, APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import replay, verify
from trigger_workflow.services.privacy import event_erasure, personal_data
from trigger_workflow.services.privacy import salts as case_salts
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case, CaseSecret, Erasure, Event

# Applied for by an officer on a victim's behalf, with the victim's consent told to the officer.
ON_BEHALF = {
    **APPLICATION,
    "channel": "phone",
    "basis": "on_behalf",
    "victim": {
        "name": "Vic Victim",
        "postcode": "DE22 3BB",
        "email": "vic@example.org",
        "preferred_contact": "email",
        "consent_given": True,
        "consent_how": "to_officer",
        "consent_date": "2026-11-30",
        "consent_method": "phone",
    },
}
CLOSED_STEPS: list[Step] = [*MET, *REVIEW, ("record_appeal", ANSWERS["record_appeal"], None)]
APPLICANT_VALUES = ("Alex Applicant", "1 Example Street, Derby", "DE1 1AA", "alex@example.org")
FREE_TEXT = ("Loud music and shouting", "I cannot sleep", "Carol Coordinator")


def _complete(session: Session, reference: str, steps: list[Step]) -> str:
    for spec_name, answers, agency in steps:
        username = AGENCY_OFFICER[agency] if agency else ROLE_OFFICER.get(spec_name, "carol")
        actor = actors.find_officer(session, username)
        task = open_task(session, reference, spec_name, agency)
        cases.complete_task(session, cases.CompleteTask(reference, task, answers, actor))
    return reference


def _case_on_behalf(session: Session) -> str:
    """A case applied for on a victim's behalf, taken to its close."""
    carol = actors.find_officer(session, "carol")
    result = cases.submit_application(session, cases.SubmitApplication(ON_BEHALF, carol))
    return _complete(session, result.reference, CLOSED_STEPS)


def _case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    return case


def _events_text(session: Session, case: Case) -> str:
    rows = session.execute(select(Event.data, Event.detail).where(Event.case_id == case.id))
    return json.dumps([list(row) for row in rows])


def _erase(session: Session, reference: str, subjects: set[str], under: str = "request") -> None:
    """Erase as the erasure service does: seal in the events, destroy the salts, record it."""
    case = _case(session, reference)
    erased = event_erasure.erase_from_events(session, case, subjects)
    case_salts.destroy(session, case, subjects)
    session.add(
        Erasure(
            case_id=case.id,
            subjects=sorted(subjects),
            under=under,
            reason="Subject's request of 1 December 2026",
            erased_by="ada",
            erased_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
            counts={"events": erased.events, "legacy_events": erased.legacy_events},
        )
    )
    session.commit()


def _tamper(
    session: Session, reference: str, task_spec: str, change: Callable[[Any], None]
) -> None:
    """Change a task's event data behind the application's back, as someone with the database
    could; `change` is given the data and asserts what it expects there."""
    case = _case(session, reference)
    event_id = session.scalar(
        select(Event.id).where(Event.case_id == case.id, Event.task_spec == task_spec)
    )
    data = session.scalar(select(Event.data).where(Event.id == event_id))
    change(data)
    session.execute(
        text("UPDATE event SET data = :d WHERE id = :i"), {"d": json.dumps(data), "i": event_id}
    )
    session.commit()


def _verdict(session: Session, reference: str) -> verify.CaseVerdict:
    case = _case(session, reference)
    rows = session.execute(
        select(*verify.EVENT_COLUMNS).where(Event.case_id == case.id).order_by(Event.seq)
    ).mappings()
    return verify.check_case(session, case, list(rows))


def test_personal_values_are_classified_by_whose_they_are() -> None:
    """Applicant's and victim's values are theirs; free text is the case's; choices, dates and
    yes/no are not personal (they keep the case's shape and the figures)."""
    found = personal_data.classify_data(ON_BEHALF, frozenset({"channel", "basis", "reported_to"}))
    assert found["/applicant/name"] == "applicant"
    assert found["/applicant/preferred_contact"] == "applicant"
    assert found["/victim/email"] == "victim"
    assert found["/incidents/0/what_happened"] == "case"
    assert found["/impact"] == "case"
    for not_personal in ("/channel", "/basis", "/incidents/0/behaviour_date", "/declaration"):
        assert not_personal not in found
    assert "/incidents/1/reported_to/0" not in found


def test_closed_keys_come_from_the_forms_choices_and_dates(
    deployed: processes.DeployResult,
) -> None:
    """A field is a closed choice when every form that has it gives it choices, a date or yes/no."""
    version = processes.deployed(deployed.version)
    keys = personal_data.closed_keys_of_files(version.content_hash, version.files.files)
    assert {"threshold_outcome", "acknowledgement_method", "meeting_date", "channel"} <= keys
    assert not {"threshold_reasons", "what_happened", "location", "named_contact"} & keys


def test_r21_erasing_the_applicant_keeps_the_chain_verifiable(
    session: Session, deployed: processes.DeployResult
) -> None:
    """The applicant's values leave every event; the chain verifies; the verdict says who erased
    what, when and under what; the victim's values and the figures' choices stay."""
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False):
        reference = _case_on_behalf(session)
    case = _case(session, reference)
    assert "Alex Applicant" in _events_text(session, case)
    _erase(session, reference, {"applicant"})
    case = _case(session, reference)
    events = _events_text(session, case)
    for value in APPLICANT_VALUES:
        assert value not in events
    assert "Vic Victim" in events and '"threshold_outcome": "met"' in events
    verdict = _verdict(session, reference)
    assert verdict.intact, verdict.problems
    assert [note.message for note in verdict.erasures] == [
        "personal data of the applicant erased on request on 7 December 2026 by ada"
    ]
    secret = session.get(CaseSecret, (case.id, "applicant"))
    assert secret is not None and secret.salt is None and secret.destroyed_at is not None
    assert session.get(CaseSecret, (case.id, "victim")).salt is not None  # type: ignore[union-attr]


def test_r21_erasing_everything_leaves_no_value_in_the_events(
    session: Session, deployed: processes.DeployResult, database_url: str
) -> None:
    """Erased under the schedule (every subject), no personal value is left in any event, and
    `audit verify` on the command line reports the case intact with its erasure."""
    reference = run_case(session, CLOSED_STEPS)
    case = _case(session, reference)
    subjects = event_erasure.subjects_on(session, case)
    assert {"applicant", "case"} <= subjects
    _erase(session, reference, subjects, under="schedule")
    events = _events_text(session, _case(session, reference))
    for value in (*APPLICANT_VALUES, *FREE_TEXT, "Flat 2, Example Street"):
        assert value not in events
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["audit", "verify", reference], env=env)
    assert result.exit_code == 0, result.output
    assert "erased under the retention schedule on 7 December 2026 by ada" in result.output
    assert "every chain intact" in result.output


def test_r21_a_sealed_value_changed_is_an_alteration(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Changing the digest an erased value was replaced by breaks the chain like any change."""
    reference = run_case(session, CLOSED_STEPS)
    _erase(session, reference, {"applicant"})

    def forge_digest(data: Any) -> None:
        assert "$sealed" in data["applicant"]["name"]
        data["applicant"]["name"] = {"$sealed": "0" * 64}

    _tamper(session, reference, "submit_application", forge_digest)
    verdict = _verdict(session, reference)
    assert [p.kind for p in verdict.problems] == ["altered"]


def test_r21_a_value_put_back_after_erasure_is_an_alteration(
    session: Session, deployed: processes.DeployResult
) -> None:
    """A name written back where it was erased (its key destroyed) is reported, with where."""
    reference = run_case(session, CLOSED_STEPS)
    _erase(session, reference, {"applicant"})

    def put_back(data: Any) -> None:
        data["applicant"]["name"] = "Alex Applicant"

    _tamper(session, reference, "submit_application", put_back)
    verdict = _verdict(session, reference)
    assert [p.kind for p in verdict.problems] == ["altered"]
    assert "/applicant/name of the applicant" in verdict.problems[0].message


def test_r21_a_choice_changed_after_erasure_is_an_alteration(
    session: Session, deployed: processes.DeployResult
) -> None:
    """What stays after erasure (the threshold outcome) is still fully covered by the chain."""
    reference = run_case(session, CLOSED_STEPS)
    case = _case(session, reference)
    _erase(session, reference, event_erasure.subjects_on(session, case), under="schedule")

    def change_outcome(data: Any) -> None:
        assert data["threshold_outcome"] == "met"
        data["threshold_outcome"] = "not_met"

    _tamper(session, reference, "decide_threshold", change_outcome)
    assert [p.kind for p in _verdict(session, reference).problems] == ["altered"]


def test_new_answers_about_an_erased_person_are_sealed_with_a_fresh_salt(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Erasing the free text of an open case, then recording more free text: the chain still
    verifies (the new values get a new salt; the erased ones need none)."""
    reference = run_case(session, FRONT)
    _erase(session, reference, {"case"})
    _complete(session, reference, [("decide_threshold", ANSWERS["decide_threshold"], None)])
    case = _case(session, reference)
    assert session.get(CaseSecret, (case.id, "case")).salt is not None  # type: ignore[union-attr]
    assert _verdict(session, reference).intact


def test_replay_of_an_anonymised_case_checks_all_but_the_erased_values(
    session: Session, deployed: processes.DeployResult
) -> None:
    """A case erased under the schedule still replays (no step of the process reads a name):
    the steps given erased values are named and only those values are left out."""
    reference = run_case(session, CLOSED_STEPS)
    case = _case(session, reference)
    _erase(session, reference, event_erasure.subjects_on(session, case), under="schedule")
    result = replay.replay_case(session, reference)
    assert result.matches, result.divergence
    assert result.stopped is None and 2 in result.erased_steps  # the application's event
    assert result.erasure_note is not None and "left out of the comparison" in result.erasure_note


def test_replay_of_an_anonymised_case_still_finds_a_changed_state(
    session: Session, deployed: processes.DeployResult
) -> None:
    """What erasure leaves in the stored state (the threshold outcome) is still compared."""
    reference = run_case(session, CLOSED_STEPS)
    case = _case(session, reference)
    _erase(session, reference, event_erasure.subjects_on(session, case), under="schedule")
    case = _case(session, reference)
    case.workflow_state = case.workflow_state.replace(
        '"threshold_outcome":"met"', '"threshold_outcome":"not_met"'
    )
    assert '"not_met"' in case.workflow_state
    session.commit()
    result = replay.replay_case(session, reference)
    assert result.divergence is not None and "threshold_outcome" in result.divergence.message


def test_r21_auditor_sees_the_erasure_and_erased_values_as_erased(
    client: FlaskClient, sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """The audit timeline of an erased case: the chain intact with the erasure's note, the
    application's answers reading "[erased]", no digest and no erased value on the page."""
    with sessions() as session:
        reference = run_case(session, CLOSED_STEPS)
        _erase(session, reference, event_erasure.subjects_on(session, _case(session, reference)))
    CaseDriver(client, sessions).act_as("ada")
    html = client.get(f"/audit/cases/{reference}?event=2").text
    assert "Intact" in html and "erased on request on 7 December 2026 by ada" in html
    assert "[erased]" in html and "$sealed" not in html
    for value in (*APPLICANT_VALUES, *FREE_TEXT):
        assert value not in html
