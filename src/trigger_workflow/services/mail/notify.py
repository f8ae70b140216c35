"""GOV.UK Notify as a delivery channel: emails, text messages and letters it prints and posts.

Used through Notify's official client. Each message is sent with a Notify template set up once
by the council (see docs/operations.md): ``((subject))`` and ``((body))`` for emails and text
messages, and ``((link_to_file))`` for an emailed letter, whose PDF Notify keeps for the
applicant to download. A letter for post is sent as a precompiled letter (our PDF), which Notify
prints and posts.

Notify's refusals are sorted the way the outbox needs: a 4xx answer (a bad address, a template
that does not fit, a key Notify does not accept) will not get better by trying again, so the
message fails at once for a person to look at; a 429, a 5xx or no answer at all is retried.
"""

from __future__ import annotations

import hmac
import io
from dataclasses import dataclass
from typing import Any

from notifications_python_client import NotificationsAPIClient, prepare_upload
from notifications_python_client.errors import APIError

# What Notify's delivery receipts say, in words (emails, texts and letters).
DELIVERY_TEXT = {
    "created": "Given to GOV.UK Notify",
    "sending": "Being delivered",
    "pending": "Being delivered",
    "sent": "Sent (international)",
    "delivered": "Delivered",
    "permanent-failure": "Not delivered: the address or number is wrong",
    "temporary-failure": "Not delivered: the inbox or phone could not take it",
    "technical-failure": "Not delivered: a fault at GOV.UK Notify",
    "accepted": "Accepted for printing",
    "received": "Printed and posted",
    "cancelled": "Cancelled",
    "pending-virus-check": "Being checked",
    "virus-scan-failed": "Not sent: failed the virus check",
    "validation-failed": "Not sent: the letter does not fit Notify's printing rules",
}
FAILED_DELIVERY = {
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
    "virus-scan-failed",
    "validation-failed",
}


@dataclass(frozen=True)
class NotifySettings:
    """How to reach GOV.UK Notify, and the templates the council set up there."""

    api_key: str
    email_template_id: str
    sms_template_id: str
    letter_email_template_id: str = ""
    base_url: str = "https://api.notifications.service.gov.uk"
    letters: bool = False  # letters for post go to Notify to print, not to the print queue
    timeout: float = 30.0

    def client(self) -> NotificationsAPIClient:
        """Return a client for one sending pass (the client is not thread-safe)."""
        return NotificationsAPIClient(self.api_key, base_url=self.base_url, timeout=self.timeout)


def notify_from(settings: Any) -> NotifySettings | None:
    """Return the Notify settings, or None when Notify is not configured (no API key)."""
    if not settings.notify_api_key:
        return None
    return NotifySettings(
        api_key=settings.notify_api_key,
        email_template_id=settings.notify_email_template_id,
        sms_template_id=settings.notify_sms_template_id,
        letter_email_template_id=settings.notify_letter_email_template_id,
        base_url=settings.notify_base_url,
        letters=settings.notify_letters,
        timeout=settings.notify_timeout_seconds,
    )


def send_email(
    client: NotificationsAPIClient,
    notify: NotifySettings,
    to: str,
    subject: str,
    body: str,
    reference: str,
) -> str:
    """Send a short email; return Notify's id for it."""
    answer = client.send_email_notification(
        email_address=to,
        template_id=notify.email_template_id,
        personalisation={"subject": subject, "body": body},
        reference=reference,
    )
    return _id_of(answer)


def send_letter_email(
    client: NotificationsAPIClient,
    notify: NotifySettings,
    to: str,
    subject: str,
    body: str,
    pdf: bytes,
    filename: str,
    reference: str,
) -> str:
    """Email a letter: Notify keeps the PDF and the email links to it; return Notify's id."""
    if not notify.letter_email_template_id:
        raise NotifyNotSetUp(
            "TRIGGER_WORKFLOW_NOTIFY_LETTER_EMAIL_TEMPLATE_ID is not set, so letters cannot be "
            "emailed through GOV.UK Notify."
        )
    upload = prepare_upload(io.BytesIO(pdf), filename=filename, confirm_email_before_download=True)
    answer = client.send_email_notification(
        email_address=to,
        template_id=notify.letter_email_template_id,
        personalisation={"subject": subject, "body": body, "link_to_file": upload},
        reference=reference,
    )
    return _id_of(answer)


def send_sms(
    client: NotificationsAPIClient, notify: NotifySettings, phone: str, body: str, reference: str
) -> str:
    """Send a text message; return Notify's id for it."""
    answer = client.send_sms_notification(
        phone_number=phone,
        template_id=notify.sms_template_id,
        personalisation={"body": body},
        reference=reference,
    )
    return _id_of(answer)


def send_precompiled_letter(client: NotificationsAPIClient, pdf: bytes, reference: str) -> str:
    """Give Notify a letter's PDF to print and post (second class); return Notify's id."""
    answer = client.send_precompiled_letter_notification(
        reference=reference, pdf_file=io.BytesIO(pdf), postage="second"
    )
    return _id_of(answer)


class NotifyNotSetUp(Exception):
    """A message needs a Notify template or setting that is missing: trying again will not help."""


def is_permanent(error: Exception) -> bool:
    """Return whether trying again cannot help: Notify refused the message itself (4xx, not 429)."""
    if isinstance(error, NotifyNotSetUp):
        return True
    if isinstance(error, APIError):
        status = error.status_code
        return 400 <= status < 500 and status != 429
    return False


def describe(error: Exception) -> str:
    """Say what went wrong, as the outbox records it."""
    if isinstance(error, APIError):
        return f"GOV.UK Notify answered {error.status_code}: {error.message}"
    return f"{type(error).__name__}: {error}"


def callback_token_ok(expected: str, authorization: str | None) -> bool:
    """Return whether a callback carries the bearer token configured in Notify (constant time)."""
    if not expected or not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


def _id_of(answer: Any) -> str:
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise ValueError("GOV.UK Notify's answer has no notification id.")
    return answer["id"]
