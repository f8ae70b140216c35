"""R21 tamper evidence: each event chains to the one before; verify finds what was done to the table."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import MET, REVIEW, every_path, open_task, run_case
from trigger_workflow.cli import main
from trigger_workflow.errors import ConcurrentChange
from trigger_workflow.samples import ANSWERS
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import verify
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.tasks import cases, records
from trigger_workflow.store import chain, db
from trigger_workflow.store.models import AppendOnlyError, Case, Event


def _case_id(session: Session, reference: str) -> int:
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    assert case_id is not None
    return case_id


def _tamper(session: Session, sql: str, **params: object) -> None:
    """Change the event table behind the application's back, as someone with the database could."""
    session.execute(text(sql), params)
    session.commit()
    session.expire_all()


def _problems(session: Session, reference: str) -> list[verify.ChainProblem]:
    report = verify.verify_cases(session)
    broken = {v.reference: v for v in report.broken}
    assert set(broken) == {reference}, broken
    return broken[reference].problems


@pytest.fixture
def closed_case(session: Session, deployed: processes.DeployResult) -> str:
    """A case taken along the whole main path (11 events), beside an untouched one."""
    run_case(session, MET)
    return run_case(session, [*MET, *REVIEW, ("record_appeal", ANSWERS["record_appeal"], None)])


def test_r21_every_event_carries_its_hash_and_the_previous_one(
    session: Session, deployed: processes.DeployResult
) -> None:
    """Along every path each event's hash covers its content and links to the event before."""
    references = every_path(session)
    for reference in references.values():
        case_id = _case_id(session, reference)
        events = session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq))
        salts = verify.case_salts(session, [case_id]).get(case_id, {})
        previous = chain.GENESIS
        for event in events:
            assert event.prev_hash == previous and len(event.hash) == 64
            content = {name: getattr(event, name) for name in (*chain.CONTENT_FIELDS, "personal")}
            assert event.personal is not None  # personal values are committed to by digests
            assert chain.event_hash(content, previous, salts) == event.hash
            previous = event.hash
        case = session.get(Case, case_id)
        assert case is not None and case.last_event_hash == previous
    report = verify.verify_cases(session)
    assert (report.checked, report.broken) == (len(references), [])
    assert report.events > 40


def test_r21_altered_event_is_found(session: Session, closed_case: str) -> None:
    """Changing what an officer submitted is reported as an altered event at its number."""
    case_id = _case_id(session, closed_case)
    _tamper(
        session,
        "UPDATE event SET data = :data WHERE case_id = :case AND seq = 5",
        data='{"threshold_outcome": "not_met", "threshold_reasons": "x"}',
        case=case_id,
    )
    assert [(p.seq, p.kind) for p in _problems(session, closed_case)] == [(5, "altered")]


def test_r21_altered_actor_or_time_is_found(session: Session, closed_case: str) -> None:
    """Changing who acted, or when, breaks the hash just the same."""
    case_id = _case_id(session, closed_case)
    _tamper(
        session, "UPDATE event SET actor = 'olu' WHERE case_id = :case AND seq = 3", case=case_id
    )
    _tamper(
        session,
        "UPDATE event SET occurred_at = :when WHERE case_id = :case AND seq = 7",
        when="2020-01-01 00:00:00",
        case=case_id,
    )
    assert [(p.seq, p.kind) for p in _problems(session, closed_case)] == [
        (3, "altered"),
        (7, "altered"),
    ]


def test_r21_deleted_event_is_found(session: Session, closed_case: str) -> None:
    """Deleting an event from the middle is reported with the missing number."""
    _tamper(
        session,
        "DELETE FROM event WHERE case_id = :case AND seq = 4",
        case=_case_id(session, closed_case),
    )
    problems = _problems(session, closed_case)
    assert [(p.seq, p.kind) for p in problems] == [(4, "deleted")]
    assert "event 4 missing" in problems[0].message


def test_r21_deleted_last_event_is_found(session: Session, closed_case: str) -> None:
    """Deleting the newest event is found too: the case row keeps the head of its chain."""
    _tamper(
        session,
        "DELETE FROM event WHERE case_id = :case AND seq = 11",
        case=_case_id(session, closed_case),
    )
    assert [(p.seq, p.kind) for p in _problems(session, closed_case)] == [(11, "deleted")]


def test_r21_inserted_event_is_found(session: Session, closed_case: str) -> None:
    """An event forged at the end, correctly hashed and linked, still does not match the head."""
    case_id = _case_id(session, closed_case)
    last = session.scalar(select(Event).where(Event.case_id == case_id, Event.seq == 11))
    assert last is not None
    content = {name: getattr(last, name) for name in chain.CONTENT_FIELDS}
    content.update(seq=12, actor="olu", kind="task_completed", data={"appeal_decision": "upheld"})
    content.update(task_id=None, task_spec=None, task_name=None, detail={})
    forged = chain.event_hash(content, last.hash)
    _tamper(
        session,
        "INSERT INTO event (case_id, seq, occurred_at, actor, kind, task_id, task_spec, task_name,"
        " data, detail, prev_hash, hash) VALUES (:case, 12, :when, 'olu', 'task_completed', NULL,"
        " NULL, NULL, :data, '{}', :prev, :hash)",
        case=case_id,
        when=last.occurred_at,
        data='{"appeal_decision": "upheld"}',
        prev=last.hash,
        hash=forged,
    )
    assert [(p.seq, p.kind) for p in _problems(session, closed_case)] == [(12, "inserted")]


def test_r21_event_inserted_in_the_middle_is_found(session: Session, closed_case: str) -> None:
    """An event slipped in between two others (the later ones renumbered) is found where it is."""
    case_id = _case_id(session, closed_case)
    _tamper(
        session, "UPDATE event SET seq = seq + 100 WHERE case_id = :case AND seq >= 6", case=case_id
    )
    _tamper(
        session,
        "UPDATE event SET seq = seq - 99 WHERE case_id = :case AND seq >= 106",
        case=case_id,
    )
    previous = session.scalar(select(Event).where(Event.case_id == case_id, Event.seq == 5))
    assert previous is not None
    _tamper(
        session,
        "INSERT INTO event (case_id, seq, occurred_at, actor, kind, data, detail, prev_hash, hash)"
        " VALUES (:case, 6, :when, 'carol', 'note', '{}', '{}', :prev, :hash)",
        case=case_id,
        when=previous.occurred_at,
        prev=previous.hash,
        hash="0" * 64,
    )
    assert [(p.seq, p.kind) for p in _problems(session, closed_case)] == [(6, "inserted")]


def test_r21_reordered_events_are_found(session: Session, closed_case: str) -> None:
    """Swapping two events' numbers is reported as reordered, naming both."""
    case_id = _case_id(session, closed_case)
    for old, new in ((3, 1003), (4, 3), (1003, 4)):
        _tamper(
            session,
            "UPDATE event SET seq = :new WHERE case_id = :case AND seq = :old",
            new=new,
            old=old,
            case=case_id,
        )
    problems = _problems(session, closed_case)
    # Event 5 now follows the event numbered 3, which was its predecessor: said too.
    assert [(p.seq, p.kind) for p in problems] == [
        (3, "reordered"),
        (4, "reordered"),
        (5, "reordered"),
    ]
    assert "recorded as event 4" in problems[0].message
    assert "recorded as event 3" in problems[1].message


def test_r21_audit_verify_command(database_url: str, session: Session, closed_case: str) -> None:
    """`audit verify` exits 0 on intact chains; 1 naming each broken case and where, for all or named cases."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    intact = runner.invoke(main, ["audit", "verify"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "2 cases" in intact.output and "intact" in intact.output
    _tamper(
        session,
        "UPDATE event SET actor = 'x' WHERE case_id = :case AND seq = 2",
        case=_case_id(session, closed_case),
    )
    broken = runner.invoke(main, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert f"{closed_case}: event 2 was altered" in broken.output
    other = session.scalar(select(Case.reference).where(Case.reference != closed_case))
    assert runner.invoke(main, ["audit", "verify", str(other)], env=env).exit_code == 0
    missing = runner.invoke(main, ["audit", "verify", "CT-1999-0001"], env=env)
    assert missing.exit_code == 1 and "There is no case CT-1999-0001" in missing.output


def test_r21_chain_stays_whole_under_concurrent_answers(
    sessions: sessionmaker[Session], deployed: processes.DeployResult
) -> None:
    """Two agencies answering at the same moment (the case row locked) leave one unbroken chain."""
    with sessions() as session:
        reference = run_case(session, [*MET, REVIEW[0]])
        tasks = {
            a: open_task(session, reference, "answer_information_request", a)
            for a in ("police", "housing")
        }
        officers = {
            a: actors.find_officer(session, u) for a, u in (("police", "pete"), ("housing", "hana"))
        }
    barrier = threading.Barrier(2)

    def answer(agency: str) -> None:
        command = cases.CompleteTask(
            reference, tasks[agency], ANSWERS["answer_information_request"], officers[agency]
        )
        barrier.wait()
        for _ in range(20):
            with sessions() as session:
                try:
                    cases.complete_task(session, command)
                    return
                except ConcurrentChange:
                    continue

    threads = [threading.Thread(target=answer, args=(a,)) for a in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.events_recorded == 8
        assert [t.task_spec for t in case.open_tasks] == ["hold_review_meeting"]
        assert verify.verify_cases(session).broken == []


def test_r21_migration_chains_events_recorded_before_it(tmp_path: Path) -> None:
    """Events written before the chain existed are hashed and linked in order by the migration."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    from alembic import command

    command.upgrade(db.alembic_config(url), "0002")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO process_version (id, process_id, number, content_hash, files, spec,"
                " serializer_version, deployed_by, deployed_at) VALUES (1, 'p', 1, 'h', '{}', '{}',"
                " '1', 'x', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                'INSERT INTO "case" (id, reference, process_version_id, status, stage,'
                " received_on, created_at, updated_at, workflow_state, serializer_version,"
                " lock_version, events_recorded) VALUES (1, 'CT-2026-0001', 1, 'open', 's',"
                " '2026-01-01', '2026-01-01 00:00:00', '2026-01-01 00:00:00', '{}', '1', 1, 2)"
            )
        )
        for seq in (2, 1):
            connection.execute(
                text(
                    "INSERT INTO event (case_id, seq, occurred_at, actor, kind, data, detail)"
                    " VALUES (1, :seq, '2026-01-01 00:00:00.000001', 'carol', 'note',"
                    " '{\"n\": 1}', '{}')"
                ),
                {"seq": seq},
            )
    engine.dispose()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.make_session_factory(engine)() as session:
        report = verify.verify_cases(session)
        assert (report.checked, report.events, report.broken) == (1, 2, [])
    engine.dispose()


def test_r21_hashed_insertion_with_renumbering_is_named_as_an_insertion(
    session: Session, closed_case: str
) -> None:
    """A forged event hashed and linked in the middle, later ones renumbered: reported as inserted there."""
    case_id = _case_id(session, closed_case)
    _tamper(
        session, "UPDATE event SET seq = seq + 100 WHERE case_id = :case AND seq >= 6", case=case_id
    )
    _tamper(
        session,
        "UPDATE event SET seq = seq - 99 WHERE case_id = :case AND seq >= 106",
        case=case_id,
    )
    previous = session.scalar(select(Event).where(Event.case_id == case_id, Event.seq == 5))
    assert previous is not None
    content = {name: getattr(previous, name) for name in chain.CONTENT_FIELDS}
    content.update(seq=6, actor="carol", kind="note", task_id=None, task_spec=None, task_name=None)
    content.update(data={"note": "forged"}, detail={})
    _tamper(
        session,
        "INSERT INTO event (case_id, seq, occurred_at, actor, kind, data, detail, prev_hash, hash)"
        " VALUES (:case, 6, :when, 'carol', 'note', :data, '{}', :prev, :hash)",
        case=case_id,
        when=previous.occurred_at,
        data='{"note": "forged"}',
        prev=previous.hash,
        hash=chain.event_hash(content, previous.hash),
    )
    problems = _problems(session, closed_case)
    assert [(p.seq, p.kind) for p in problems] == [(6, "inserted")]
    assert "the 6 events after it were each renumbered one up" in problems[0].message


def test_r21_deletion_hidden_by_renumbering_is_named_as_a_deletion(
    session: Session, closed_case: str
) -> None:
    """An event deleted and the later ones renumbered down to close the gap: reported as deleted."""
    case_id = _case_id(session, closed_case)
    _tamper(session, "DELETE FROM event WHERE case_id = :case AND seq = 4", case=case_id)
    _tamper(
        session, "UPDATE event SET seq = seq + 100 WHERE case_id = :case AND seq >= 5", case=case_id
    )
    _tamper(
        session,
        "UPDATE event SET seq = seq - 101 WHERE case_id = :case AND seq >= 105",
        case=case_id,
    )
    _tamper(session, 'UPDATE "case" SET events_recorded = 10 WHERE id = :case', case=case_id)
    problems = _problems(session, closed_case)
    assert [(p.seq, p.kind) for p in problems] == [(4, "deleted")]


def test_r21_an_event_changed_after_it_was_hashed_is_not_written(
    session: Session, closed_case: str
) -> None:
    """Setting a field of a new event after append_event hashed it is refused, not stored broken."""
    case = session.scalar(select(Case).where(Case.reference == closed_case))
    assert case is not None
    carol = actors.find_officer(session, "carol")
    event = records.append_event(session, case, carol, "note", data={"note": "seen"})
    event.task_name = "Something else"
    with pytest.raises(AppendOnlyError, match="changed after it was hashed"):
        session.flush()
    session.rollback()
    claimed = records.append_event(
        session, case, carol, "claimed", task_ref=("t-1", "choose_agencies", "Choose agencies")
    )
    session.commit()
    assert (claimed.task_id, claimed.task_spec, claimed.task_name) == (
        "t-1",
        "choose_agencies",
        "Choose agencies",
    )
    assert verify.verify_cases(session).broken == []


def test_verification_reads_fast_yet_judges_every_value_as_it_was_hashed() -> None:
    """Verification writes an event's content with orjson first (several times faster); a value
    it writes differently from the canonical text (a small float) or cannot write (an integer
    over 64 bits) is checked again the canonical way, so an intact event always verifies and an
    altered one never does."""
    from trigger_workflow.store import chain

    content = {
        "case_id": 1, "seq": 1, "occurred_at": "2026-12-07T10:00:00.000000Z", "actor": "carol",
        "kind": "task_completed", "task_id": "t", "task_spec": "s", "task_name": "n",
        "data": {"small": 1e-07, "huge": 2**70, "name": "Zoë"}, "detail": {"b": [1, 2.5]},
    }  # fmt: skip
    expected = chain.event_hash(content, "prev")
    assert chain._fast_canonical_bytes({"small": 1e-07}) != chain._canonical_bytes({"small": 1e-07})
    assert chain.event_hash_matches(content, "prev", expected, {})
    altered = {**content, "data": {**content["data"], "name": "Zoe"}}
    assert not chain.event_hash_matches(altered, "prev", expected, {})
    assert not chain.event_hash_matches(content, "other", expected, {})


def test_r21_batches_of_one_case_find_what_one_batch_finds(
    session: Session, closed_case: str
) -> None:
    """`audit verify` reads cases a batch at a time (flat memory): batches of one case find the
    same cases, events and altered event as one batch of all, and say how far they have got."""
    _tamper(
        session,
        "UPDATE event SET data = :data WHERE case_id = :case AND seq = 5",
        data='{"threshold_outcome": "not_met", "threshold_reasons": "x"}',
        case=_case_id(session, closed_case),
    )
    whole = verify.verify_cases(session)
    seen: list[tuple[int, int]] = []
    batched = verify.verify_cases(
        session, batch=1, progress=lambda done, total: seen.append((done, total))
    )
    assert (batched.checked, batched.events) == (whole.checked, whole.events)
    assert batched.checked == 2 and batched.events == 16  # 5 + the closed case's 11
    assert [(v.reference, v.problems) for v in batched.broken] == [
        (v.reference, v.problems) for v in whole.broken
    ]
    assert [(p.seq, p.kind) for p in batched.broken[0].problems] == [(5, "altered")]
    assert seen == [(1, 2), (2, 2)]
