"""Turn errors into a page a person understands, or a JSON error for API callers."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from trigger_workflow.errors import FormInvalid, TriggerWorkflowError
from trigger_workflow.web.api_v1 import problems


def wants_json() -> bool:
    """Return whether the caller is an API client rather than a browser."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(TriggerWorkflowError)
    def domain_error(error: TriggerWorkflowError) -> tuple[Any, int]:
        if error.status >= 500:
            app.logger.error(
                "%s on %s: %s %s", error.title, request.path, error.message, error.context
            )
        return _respond(error.status, error.title, error.message, _details(error))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Any, int]:
        return _respond(
            400,
            "Your form could not be sent",
            "Nothing was saved: the form had expired, or it did not come from this service "
            f"({error.description.rstrip('.')}). Go back, reload the page and send it again. "
            "API clients send the session's token in the X-CSRFToken header "
            "(GET /api/csrf-token).",
            [],
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Any, int]:
        status = error.code or 500
        answer, code = _respond(status, error.name, error.description or "", [])
        allow = dict(error.get_headers()).get("Allow")
        if allow and isinstance(answer, Response):  # a 405 says which methods are allowed
            answer.headers["Allow"] = allow
        return answer, code

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Any, int]:
        app.logger.exception("Unhandled error on %s", request.path)
        return _respond(
            500,
            "Sorry, there is a problem with the service",
            "The change was not saved. Try again later; if it happens again, tell the service desk.",
            [],
        )


def _details(error: TriggerWorkflowError) -> list[dict[str, Any]]:
    if isinstance(error, FormInvalid):
        return [{"field": ".".join(map(str, p.path)), "message": p.message} for p in error.problems]
    if "problems" in error.context:
        return [{"message": str(p)} for p in error.context["problems"]]
    return []


def _respond(
    status: int, title: str, message: str, details: list[dict[str, Any]]
) -> tuple[Any, int]:
    if problems.wanted():  # /api/v1: RFC 9457 problem details
        return problems.problem(status, title, message, details), status
    if wants_json():
        return {"error": title, "message": message, "details": details}, status
    return render_template("error.html", title=title, message=message, details=details), status


respond = _respond  # for blueprints that answer an error of their own (e.g. a too-large upload)
