"""Fire the timers of cases whose timers are due: what the worker does."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.engine import workflow as engine
from trigger_workflow.errors import EngineError
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.process_owners import processes
from trigger_workflow.services.process_owners.incidents import open_incident
from trigger_workflow.services.tasks.records import (
    append_event,
    restore_workflow,
    save_case,
    step_detail,
)
from trigger_workflow.store.models import Case

log = logging.getLogger(__name__)
WORKER = Actor(username="worker", role="system", display_name="Timer worker")


def fire_due_timers(
    sessions: sessionmaker[Session], now: datetime | None = None, limit: int = 100
) -> int:
    """Fire due timers, one case per transaction; return how many cases moved on."""
    now = now or datetime.now(UTC)
    with sessions() as session:
        due = list(
            session.scalars(
                select(Case.id)
                .where(Case.status == "open", Case.timer_due_at <= now)
                .order_by(Case.timer_due_at)
                .limit(limit)
            )
        )
    fired = 0
    for case_id in due:
        with sessions() as session:
            try:
                fired += _fire_case(session, case_id, now)
            except Exception:
                # One failing case must not stop the others: it is retried on the next pass.
                session.rollback()
                log.exception("Could not fire the timers of case id %s", case_id)
    return fired


def _fire_case(session: Session, case_id: int, now: datetime) -> int:
    # SKIP LOCKED: on PostgreSQL each due case is taken by exactly one worker process.
    case = session.scalar(select(Case).where(Case.id == case_id).with_for_update(skip_locked=True))
    if case is None or case.timer_due_at is None or case.timer_due_at > now:
        return 0
    deployed = processes.for_case(case)
    workflow = restore_workflow(case, deployed)
    try:
        # The engine fires what is due at the moment the worker took the case (recorded for replay).
        report = engine.fire_timers(workflow, now=now)
        # Saving the state comes first in save_case: data that cannot be kept writes nothing.
        save_case(session, case, workflow, deployed)
    except EngineError as error:
        # The case is held (status "error", so later passes leave it) until a process owner retries.
        open_incident(session, case, WORKER, error)
        session.commit()
        log.warning("Case %s is held by an incident: %s", case.reference, error.message)
        return 0
    append_event(session, case, WORKER, "timer_fired", detail=step_detail(case, report))
    session.commit()
    return 1
