"""GOV.UK Notify's delivery receipts: the callback URL set in Notify, with its bearer token.

Notify sends ``Authorization: Bearer <token>`` with the token typed into its callback settings
(TRIGGER_WORKFLOW_NOTIFY_CALLBACK_TOKEN here). No session, so no CSRF token: the bearer token is
the proof the call comes from Notify. Answers are JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from trigger_workflow.errors import TriggerWorkflowError
from trigger_workflow.services.mail import notify, receipts
from trigger_workflow.web.database import get_session
from trigger_workflow.web.security import csrf

bp = Blueprint("notify_receipts", __name__)


@bp.post("/notify/receipts")
@csrf.exempt
def receipt() -> tuple[dict[str, Any], int]:
    """Keep the delivery status a Notify callback gives."""
    settings = current_app.extensions["trigger_workflow.settings"]
    if not notify.callback_token_ok(
        settings.notify_callback_token, request.headers.get("Authorization")
    ):
        return {
            "error": "Not authorised",
            "message": "The callback's bearer token is missing or wrong.",
        }, 401
    try:
        message = receipts.record(get_session(), request.get_json(silent=True))
    except TriggerWorkflowError as error:
        return {"error": error.title, "message": error.message}, error.status
    return {"message": f"Delivery status {message.delivery_status} kept."}, 200
