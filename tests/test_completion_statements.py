"""What one task completion over the web asks of the database: each thing read once (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.scenario import ANSWERS, CaseDriver, form_schema
from trigger_workflow.engine.calendar import UK_TIME
from trigger_workflow.schema_forms import encode_form

# Read the session with its officer and their granted authorities; read the task with its case
# and version; lock the case with its version; its open tasks; the steps done before; the case's
# salts; write the case (state and event head at once), the new open task, the done one, the event.
COMPLETION_STATEMENTS = 10


@contextmanager
def statements_of(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the application sends while the block runs."""
    seen: list[str] = []
    engine = app.extensions["trigger_workflow.engine"]

    def count(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.today("2026-11-25")  # the sample incidents are within R9's six months of it
def test_one_completion_reads_the_case_its_tasks_and_version_once_each(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Posting 'Record qualifying complaints' (no letter, no new agency) takes 10 statements,
    none of them sent twice: the officer once, the case, its open tasks and its version read
    once each before the lock and once under it, the steps done before read once, the case
    row written once."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    task_id = case.task_id("Record qualifying complaints")
    fields = encode_form(
        form_schema("record_complaints.json"), ANSWERS["Record qualifying complaints"]
    )
    # Twenty minutes on, the clock held still: this page moves the session's idle clock, so the
    # post that follows at the same moment has nothing of the session to write.
    with time_machine.travel(datetime(2026, 11, 25, 10, 20, tzinfo=UK_TIME), tick=False):
        client.get("/tasks")
        with statements_of(app) as seen:
            response = client.post(f"/tasks/{task_id}", data=MultiDict(fields))
    assert response.status_code == 302, response.text
    listing = "\n".join(seen)
    assert len(seen) == COMPLETION_STATEMENTS, listing
    assert len(set(seen)) == len(seen), listing  # nothing asked twice
    reads = [s for s in seen if s.startswith("SELECT")]
    assert sum(" FROM officer_session" in s for s in reads) == 1, listing
    assert not any(s.startswith("SELECT") and " FROM officer_authority" in s for s in reads)
    assert sum(" FROM event " in s for s in reads) == 1, listing  # done before, once
    assert sum(s.startswith('UPDATE "case"') for s in seen) == 1, listing
    case.check_round_trip()
