"""Build the Flask application: all wiring happens here, nothing at import time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from trigger_workflow import logs
from trigger_workflow.engine import calendar, script_pool
from trigger_workflow.services.mail import letters, notifications
from trigger_workflow.services.privacy import personal_data
from trigger_workflow.settings import Settings
from trigger_workflow.web import (
    acting,
    admin,
    api,
    api_client_pages,
    api_v1,
    assets,
    audit,
    authorities,
    cases,
    claims,
    correspondence,
    database,
    erasure,
    errors,
    health,
    hostile_input,
    incidents,
    notify_receipts,
    officer_settings,
    oidc,
    process_versions,
    public,
    recommendations,
    security,
    security_log,
    sign_in,
    subject_access,
    tasks,
    tracking,
    uploads,
    validate,
)

TEMPLATES = Path(__file__).parent / "web" / "templates"


def local_time(moment: datetime) -> str:
    """Show a stored UTC time as UK local time, e.g. '23 November 2026, 14:05'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(calendar.UK_TIME).strftime("%-d %B %Y, %H:%M")


def create_app(settings: Settings | None = None) -> Flask:
    """Create the application with the given settings (default: from the environment)."""
    settings = (settings or Settings.from_env()).with_secret_key()
    if not settings.testing:
        logs.configure_unless_configured()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions["trigger_workflow.settings"] = settings
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(TEMPLATES),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["council_name"] = settings.council_name
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["readable"] = personal_data.readable  # erased values read "[erased]"
    database.init_app(app, settings)
    script_pool.configure_from(settings)
    letters.configure(app.extensions["trigger_workflow.sessions"], letters.council_from(settings))
    notifications.configure(
        app.extensions["trigger_workflow.sessions"], notifications.options_from(settings)
    )
    uploads.init_app(app, settings)
    assets.init_app(app, settings)
    errors.init_app(app)
    hostile_input.init_app(app)
    security.init_app(app, settings)
    acting.init_app(app)
    oidc.init_app(app, settings)
    health.init_app(app, settings)
    api_v1.init_app(app)
    for blueprint in (
        public.bp,
        sign_in.bp,
        oidc.bp,
        admin.bp,
        api_client_pages.bp,
        authorities.bp,
        tasks.bp,
        cases.bp,
        api.bp,
        api_v1.bp,
        process_versions.bp,
        recommendations.bp,
        audit.bp,
        correspondence.bp,
        incidents.bp,
        validate.bp,
        claims.bp,
        health.bp,
        security_log.bp,
        notify_receipts.bp,
        officer_settings.bp,
        tracking.bp,
        subject_access.bp,
        erasure.bp,
    ):
        app.register_blueprint(blueprint)
    return app
