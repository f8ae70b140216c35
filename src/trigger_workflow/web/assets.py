"""Serve the GOV.UK Frontend files installed from npm, and the diagram editor built from npm."""

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

    @bp.get("/assets/editor/<path:filename>")
    def editor(filename: str) -> Response:
        # The bpmn-js bundles for the process owners' pages, built by 'npm run build'.
        return send_from_directory(settings.editor_assets_dir, filename, max_age=3600)

    @bp.get("/assets/<path:filename>")
    def asset(filename: str) -> Response:
        return send_from_directory(root / "assets", filename, max_age=86400)

    app.register_blueprint(bp)
    if not root.is_dir():
        app.logger.warning("GOV.UK Frontend assets not found at %s: run 'npm ci'", root)
    if not settings.editor_assets_dir.is_dir():
        app.logger.warning(
            "Diagram editor not built at %s: run 'npm run build'", settings.editor_assets_dir
        )
