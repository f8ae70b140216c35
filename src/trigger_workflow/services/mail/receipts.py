"""GOV.UK Notify's delivery receipts: each callback sets the delivery status of what it names.

Notify calls back once per status change of each email, text message or letter, naming it by
Notify's id. The latest status is kept on its outbox row, and shown where the letter's status
is shown (the case page). A receipt for a message we do not know is refused (and not kept).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import FieldProblem, FormInvalid, NotFound
from trigger_workflow.services.mail.notify import DELIVERY_TEXT
from trigger_workflow.store.models import OutboxMessage, utcnow


def record(session: Session, receipt: Any) -> OutboxMessage:
    """Keep the status a receipt gives on the message it names; commit."""
    if not isinstance(receipt, dict):
        raise FormInvalid([FieldProblem((), "The receipt must be a JSON object.")])
    notification_id, status = receipt.get("id"), receipt.get("status")
    problems = []
    if not isinstance(notification_id, str) or not 0 < len(notification_id) <= 64:
        problems.append(FieldProblem(("id",), "'id' must be GOV.UK Notify's notification id."))
    if status not in DELIVERY_TEXT:
        problems.append(FieldProblem(("status",), f"'status' {status!r} is not a Notify status."))
    if problems:
        raise FormInvalid(problems)
    message = session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_id == notification_id).with_for_update()
    )
    if message is None:
        raise NotFound(f"No message was sent with GOV.UK Notify id {notification_id}.")
    message.delivery_status, message.delivery_updated_at = str(status), utcnow()
    session.commit()
    return message
