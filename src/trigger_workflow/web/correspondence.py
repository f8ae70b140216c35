"""Letters and documents of a case, and the print queue: served safely, only to those allowed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, url_for

from trigger_workflow.services.applications import documents
from trigger_workflow.services.mail import correspondence, outbox
from trigger_workflow.web.acting import officer_required
from trigger_workflow.web.database import get_session
from trigger_workflow.web.uploads import storage

bp = Blueprint("correspondence", __name__)
# A letter is our own HTML, escaped when rendered; even so it may not run scripts or fetch anything.
LETTER_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@bp.get("/cases/<reference>/documents/<int:document_id>")
@officer_required
def document(reference: str, document_id: int) -> Response:
    """Download a document kept with a case: always as an attachment, never shown inline."""
    found, content = documents.open_for(get_session(), storage(), reference, document_id, g.actor)
    return _attachment(content, found.content_type, found.original_name)


@bp.get("/cases/<reference>/letters/<int:letter_id>")
@officer_required
def letter(reference: str, letter_id: int) -> Response:
    """Show a letter as it was sent."""
    found = correspondence.letter_for(get_session(), reference, letter_id, g.actor)
    response = Response(found.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = LETTER_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/cases/<reference>/letters/<int:letter_id>.pdf")
@officer_required
def letter_pdf(reference: str, letter_id: int) -> Response:
    """Download a letter's PDF as it was sent."""
    found, document = correspondence.letter_pdf(get_session(), reference, letter_id, g.actor)
    return _attachment(document, "application/pdf", f"{reference}-{found.kind}.pdf")


@bp.get("/outbox")
@officer_required
def queue() -> str:
    """List the letters to print and post, and the emails that could not be sent."""
    page = correspondence.outbox_page(get_session(), g.actor)
    return render_template("outbox/queue.html", page=page)


@bp.post("/outbox/<int:message_id>/<action>")
@officer_required
def act(message_id: int, action: str) -> Any:
    """Mark a letter printed, send a failed email again, or print it instead."""
    actions = {
        "printed": (outbox.mark_printed, "marked as printed and posted"),
        "retry": (outbox.retry, "queued to be emailed again"),
        "print": (outbox.print_instead, "moved to the print queue"),
    }
    if action not in actions:
        return redirect(url_for("correspondence.queue"))
    change, done = actions[action]
    change(get_session(), message_id, g.actor)
    flash(f"Letter {message_id} {done}.")
    return redirect(url_for("correspondence.queue"))


def _attachment(content: bytes, content_type: str, filename: str) -> Response:
    response = Response(content, mimetype=content_type)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
