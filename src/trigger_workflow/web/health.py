"""GET /healthz: is the database reachable and its schema at the newest migration? No sign-in."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from trigger_workflow.settings import Settings
from trigger_workflow.store import db

bp = Blueprint("health", __name__)
HEADS = "trigger_workflow.migration_heads"


def init_app(app: Flask, settings: Settings) -> None:
    """Read the migrations' head revisions once, from the files shipped with the code."""
    script = ScriptDirectory.from_config(db.alembic_config(settings.database_url))
    app.extensions[HEADS] = sorted(script.get_heads())


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Answer 200 when the database answers and is migrated to the head; 503 saying what is wrong."""
    engine: Engine = current_app.extensions["trigger_workflow.engine"]
    heads: list[str] = current_app.extensions[HEADS]
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = sorted(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        problem = f"the database cannot be reached: {type(cause).__name__}"
        return jsonify(status="unavailable", database="unreachable", problems=[problem]), 503
    body: dict[str, object] = {
        "status": "ok",
        "database": "ok",
        "migrations": {"current": current, "head": heads},
    }
    if current != heads:
        body["status"] = "unavailable"
        body["problems"] = [
            f"the database is at migration {', '.join(current) or 'none'}, the code needs "
            f"{', '.join(heads)}: run trigger-workflow init-db"
        ]
        return jsonify(body), 503
    return jsonify(body), 200
