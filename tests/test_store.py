"""The database: migrations match the models, and events cannot be changed once written."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.scenario import CaseDriver
from trigger_workflow.store import db
from trigger_workflow.store.models import AppendOnlyError, Base, Event


def test_migrations_match_the_models(engine: Engine) -> None:
    """The Alembic migrations create exactly the tables the models describe (beside the text
    search's own tables and indexes, which the models do not describe)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": db.compared_with_models}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_events_are_append_only(client, sessions, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Changing or deleting a recorded event is refused."""
    CaseDriver(client, sessions).apply()
    event = session.query(Event).first()
    assert event is not None
    event.actor = "someone else"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(session.query(Event).first())
    with pytest.raises(AppendOnlyError):
        session.flush()
