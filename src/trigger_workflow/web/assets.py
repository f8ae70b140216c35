"""Serve the GOV.UK Frontend files installed from npm."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, send_from_directory
from werkzeug.wrappers import Response

from trigger_workflow.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Serve /govuk/* (stylesheet, script) and /assets/* (images, fonts) from the npm package."""
    root = settings.assets_dir
    bp = Blueprint("assets", __name__)

    @bp.get("/govuk/<path:filename>")
    def frontend(filename: str) -> Response:
        if not filename.startswith("govuk-frontend.min."):
            abort(404)
        return send_from_directory(root, filename, max_age=86400)

    @bp.get("/assets/<path:filename>")
    def asset(filename: str) -> Response:
        return send_from_directory(root / "assets", filename, max_age=86400)

    app.register_blueprint(bp)
    if not root.is_dir():
        app.logger.warning("GOV.UK Frontend assets not found at %s: run 'npm ci'", root)
