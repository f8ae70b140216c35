"""Move open cases from one process version to another, all that can and none that cannot."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from trigger_workflow.engine import rebind
from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import ConcurrentChange, EngineError, TriggerWorkflowError
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import PARTNER, Actor
from trigger_workflow.services.process_owners import processes, versions
from trigger_workflow.services.tasks import records
from trigger_workflow.services.tasks.cases import _all_or_nothing
from trigger_workflow.store.models import Case, ProcessVersion

MIGRATED = "migrated"


@dataclass(frozen=True)
class MigrateCases:
    """Move the open cases of one version to another; a dry run only says which could move."""

    from_number: int
    to_number: int
    actor: Actor
    dry_run: bool = True
    process_id: str = processes.MAIN_PROCESS
    # One council's cases (its id); None: every council the process owner serves (issue 12).
    authority_id: int | None = None


@dataclass(frozen=True)
class CaseMove:
    """One case: whether it can move (or moved), what it waits on, and if not, why."""

    reference: str
    stage: str
    waiting: list[str]
    reasons: list[str] = field(default_factory=list)

    @property
    def movable(self) -> bool:
        """Return whether nothing stops the case moving."""
        return not self.reasons


@dataclass(frozen=True)
class MigrationReport:
    """What a migration found (dry run) or did: the cases moved and those left, with reasons."""

    from_number: int
    to_number: int
    dry_run: bool
    movable: list[CaseMove]
    not_movable: list[CaseMove]


def migrate_cases(session: Session, command: MigrateCases) -> MigrationReport:
    """List (dry run) or move the open cases of a version; each move is its own transaction.
    Only a process owner may (the command line acts as one, named by --as), and only the cases of
    the councils they serve (or of the one council asked): one council's migration never moves
    another's cases."""
    versions.require_process_owner(command.actor)
    source = versions.get_version(session, command.from_number, command.process_id)
    target = versions.get_version(session, command.to_number, command.process_id)
    if source.id == target.id:
        raise TriggerWorkflowError(
            f"Version {source.number} is both the source and the target: choose two versions."
        )
    source_id, target_id = source.id, target.id
    query = select(Case.reference).where(
        Case.process_version_id == source_id,
        Case.status == "open",
        access.in_authorities(command.actor),
    )
    if command.authority_id is not None:
        query = query.where(Case.authority_id == command.authority_id)
    references = list(session.scalars(query.order_by(Case.id)))
    session.rollback()  # no transaction held open between cases
    movable: list[CaseMove] = []
    not_movable: list[CaseMove] = []
    for reference in references:
        if command.dry_run:
            outcome = _check(session, reference, source_id, target_id)
            session.rollback()
        else:
            outcome = _move(session, reference, source_id, target_id, command)
        (movable if outcome.movable else not_movable).append(outcome)
    return MigrationReport(
        command.from_number, command.to_number, command.dry_run, movable, not_movable
    )


def _check(session: Session, reference: str, source_id: int, target_id: int) -> CaseMove:
    case = _case(session, reference, lock=False)
    if case is None or case.process_version_id != source_id or case.status != "open":
        return CaseMove(reference, "", [], ["the case changed version or closed meanwhile"])
    _, move = _plan(session, case, target_id)
    return move


def _move(
    session: Session, reference: str, source_id: int, target_id: int, command: MigrateCases
) -> CaseMove:
    try:
        with _all_or_nothing(session, reference):
            case = _case(session, reference, lock=True)
            if case is None or case.process_version_id != source_id or case.status != "open":
                raise _Skip(CaseMove(reference, "", [], ["the case changed meanwhile"]))
            workflow, move = _plan(session, case, target_id)
            if not move.movable:
                raise _Skip(move)
            target_version = session.get(ProcessVersion, target_id)
            assert target_version is not None
            case.process_version = target_version
            target = processes.for_case(case)  # under the same local rules
            moved = rebind.move(workflow, target.specs)
            case.process_version_id = target_id
            records.save_case(session, case, moved, target)
            _refresh_open_tasks(case, moved, target)
            records.append_event(
                session,
                case,
                command.actor,
                MIGRATED,
                detail={
                    "from_version": command.from_number,
                    "to_version": command.to_number,
                    "from_version_id": source_id,
                    "process_version_id": target_id,
                    "stage": case.stage,
                    "ready": [{"id": t.id, "name": t.name} for t in case.open_tasks],
                },
            )
        return move
    except _Skip as skip:
        return skip.move
    except (ConcurrentChange, EngineError) as error:
        return CaseMove(reference, "", [], [error.message])


class _Skip(Exception):
    """Leave a case as it is (the transaction rolls back) and report why."""

    def __init__(self, move: CaseMove) -> None:
        super().__init__(move.reasons)
        self.move = move


def _plan(session: Session, case: Case, target_id: int) -> tuple[engine.Workflow, CaseMove]:
    source = processes.deployed(case.process_version)
    target_version = session.get(ProcessVersion, target_id)
    assert target_version is not None
    target = processes.deployed(target_version)
    workflow = records.restore_workflow(case, source)
    waiting = [t.name for t in engine.human_tasks(workflow)]
    reasons = [str(o) for o in rebind.obstacles(workflow, target.specs)]
    for task in engine.human_tasks(workflow):
        new = target.user_tasks.get(task.spec_name)
        if new is not None and new.lane not in target.lanes:
            reasons.append(f"'{new.name}' is in lane '{new.lane}', which has no role there")
    return workflow, CaseMove(case.reference, case.stage, waiting, reasons)


def _refresh_open_tasks(
    case: Case, workflow: engine.Workflow, target: processes.DeployedProcess
) -> None:
    """Give the waiting tasks kept across the move the names, lanes and roles of the new version."""
    tasks = {t.id: t for t in engine.human_tasks(workflow)}
    for row in case.open_tasks:
        task = tasks[row.id]
        row.name, row.stage, row.lane = task.name, task.stage, task.lane
        row.role = target.role_for_lane(task.lane)
        row.agency = task.agency if row.role == PARTNER else None


def _case(session: Session, reference: str, lock: bool) -> Case | None:
    query = (
        select(Case)
        .where(Case.reference == reference)
        .options(selectinload(Case.open_tasks))
        .execution_options(populate_existing=True)
    )
    return session.scalar(query.with_for_update() if lock else query)
