"""Give each request one database session, closed when the request ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from trigger_workflow.settings import Settings
from trigger_workflow.store.db import make_engine, make_session_factory


def init_app(app: Flask, settings: Settings) -> None:
    """Create the engine and session factory and close sessions after each request."""
    engine = make_engine(settings.database_url)
    app.extensions["trigger_workflow.engine"] = engine
    app.extensions["trigger_workflow.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["trigger_workflow.sessions"]()
    session: Session = g.db_session
    return session


def close_session(error: BaseException | None = None) -> None:
    """Close the request's session, rolling back anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
