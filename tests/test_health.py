"""GET /healthz: 200 when the database answers and is migrated to the head, else 503 saying why."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from alembic import command
from flask import Flask
from flask.testing import FlaskClient

from trigger_workflow.app import create_app
from trigger_workflow.settings import Settings
from trigger_workflow.store import db


def test_health_is_ok_on_a_migrated_database(client: FlaskClient) -> None:
    """No sign-in needed; the answer names the migration, and nothing personal."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"] != []
    assert "Set-Cookie" not in response.headers


def _app(settings: Settings, database_url: str) -> Flask:
    return create_app(replace(settings, database_url=database_url))


def test_health_is_503_when_migrations_are_behind(settings: Settings, tmp_path: Path) -> None:
    """A database one migration behind the code: 503, saying which migration it is at."""
    url = f"sqlite:///{tmp_path / 'behind.sqlite'}"
    command.upgrade(db.alembic_config(url), "0009")
    app = _app(settings, url)
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["trigger_workflow.engine"].dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["migrations"]["current"] == ["0009"]
    assert "trigger-workflow init-db" in body["problems"][0]


def test_health_is_503_when_the_database_cannot_be_reached(
    settings: Settings, tmp_path: Path
) -> None:
    """A database that cannot be opened: 503 naming the kind of failure, never a 500 page and
    never the connection details."""
    folder = tmp_path / "not-a-database"
    folder.mkdir()
    app = _app(settings, f"sqlite:///{folder}")
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["trigger_workflow.engine"].dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "unreachable"
    assert body["problems"] == ["the database cannot be reached: OperationalError"]
    assert str(folder) not in response.text
