"""Short notifications through the outbox: the applicant's stage updates and officers' task alerts.

The applicant gets a short message at each stage (received, threshold decided, review held,
outcome, appeal decided) by the contact they chose: an email when they chose email, a text
message when they chose phone and GOV.UK Notify is set up. Those who chose post get the formal
letters only, as before. Officers get an email when a coordinator gives them a task, and when a
step becomes overdue (an escalation, offered to their role): not for every task offered to a
whole role, which would bury the alerts that matter. An officer can switch these emails off.

Every message is an outbox row written in the transaction of the change it tells of, so it is
sent once the change is kept, and retried like a letter. No subject says anything personal:
subjects are fixed words; the body names the case by its reference only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.services.mail.letter_content import text_of
from trigger_workflow.store.models import Case, Officer, OpenTask, OutboxMessage

SESSION_INFO_KEY = "trigger_workflow.notifications"
APPLICANT_SUBJECT = "An update on your ASB case review"
CODE_SUBJECT = "Your code to see your ASB case review"
TASK_SUBJECT = "A task has been given to you"
ESCALATION_SUBJECT = "A step on a case is overdue"
ESCALATION_TASK = "handle_escalation"

# Which task's completion tells the applicant which stage was reached.
STAGE_AFTER_TASK = {
    "submit_application": "received",
    "decide_threshold": "threshold_decided",
    "hold_review_meeting": "review_held",
    "send_outcome_notice": "outcome",
    "decide_appeal": "appeal_decided",
}
STAGE_MESSAGES = {
    "received": "We have received your application for an ASB case review. Your reference is {reference}.",
    "threshold_decided": "We have decided whether your ASB case review application ({reference}) meets the threshold for a review. Our letter gives the decision and why.",
    "review_held": "The meeting to review your ASB case ({reference}) has been held. We will send you its outcome.",
    "outcome": "We have sent you the outcome of the review of your ASB case ({reference}).",
    "appeal_decided": "Your appeal about your ASB case review ({reference}) has been decided. Our letter gives the decision.",
}


@dataclass(frozen=True)
class Options:
    """What the notifications may use: text messages (Notify), and the service's address for links."""

    texts: bool = False
    post_by_notify: bool = False
    base_url: str = ""

    def link(self, path: str) -> str:
        """Return a link to a page of the service (a path alone when no address is set)."""
        return f"{self.base_url.rstrip('/')}{path}"


def options_from(settings: Any) -> Options:
    """Return the notification options the settings give."""
    return Options(
        texts=bool(settings.notify_api_key),
        post_by_notify=bool(settings.notify_api_key and settings.notify_letters),
        base_url=settings.public_base_url,
    )


def configure(session_factory: Any, options: Options) -> None:
    """Give every session of a factory the notification options (kept beside the council's)."""
    session_factory.configure(
        info={**session_factory.kw.get("info", {}), SESSION_INFO_KEY: options}
    )


def options_of(session: Session) -> Options:
    """Return the options the session was configured with (default: email only, no links)."""
    options = session.info.get(SESSION_INFO_KEY)
    return options if isinstance(options, Options) else Options()


def after_task(session: Session, case: Case, task_spec: str, data: dict[str, Any]) -> None:
    """Queue the applicant's short message for the stage this task's completion reached, if any."""
    stage = STAGE_AFTER_TASK.get(task_spec)
    if stage is None:
        return
    body = STAGE_MESSAGES[stage].format(reference=case.reference)
    body += "\n\n" + _track_line(options_of(session))
    to_applicant(session, case, data.get("applicant") or {}, APPLICANT_SUBJECT, body, "stage")


def to_applicant(
    session: Session,
    case: Case,
    applicant: dict[str, Any],
    subject: str,
    body: str,
    purpose: str,
) -> OutboxMessage | None:
    """Queue a message to the applicant by their chosen email or phone; None if neither."""
    contact = applicant_contact(session, applicant)
    if contact is None:
        return None
    channel, address = contact
    message = OutboxMessage(
        channel=channel,
        recipient_email=address if channel == "email" else None,
        recipient_phone=address if channel == "sms" else None,
        case_id=case.id,
        purpose=purpose,
        subject=subject,
        body=body,
        status="queued",
        attempts=0,
    )
    session.add(message)
    return message


def applicant_contact(session: Session, applicant: dict[str, Any]) -> tuple[str, str] | None:
    """Return (channel, address) for the applicant's short messages, or None (post, or none given)."""
    preferred = applicant.get("preferred_contact")
    email, phone = text_of(applicant.get("email")), text_of(applicant.get("phone"))
    if preferred == "email" and email:
        return "email", email
    if preferred == "phone" and phone and options_of(session).texts:
        return "sms", phone
    return None


def task_given(session: Session, task: OpenTask, reference: str, to_username: str, by: str) -> None:
    """Email an officer that a coordinator gave them a task, unless they switched it off."""
    officer = session.scalar(select(Officer).where(Officer.username == to_username))
    if officer is None or officer.username == by:
        return
    options = options_of(session)
    body = (
        f"{task.name} on case {reference} has been given to you.\n\n"
        f"Open the task: {options.link(f'/tasks/{task.id}')}\n\n{_switch_off_line(options)}"
    )
    _email_officer(session, officer, task.case_id, TASK_SUBJECT, body, "task")


def escalated(session: Session, case: Case, task: OpenTask) -> None:
    """Email the officers of the escalation's role (and agency) that a step on a case is overdue."""
    options = options_of(session)
    body = (
        f"A step on case {case.reference} is overdue: '{task.name}' is waiting for your team.\n\n"
        f"Open the task: {options.link(f'/tasks/{task.id}')}\n\n{_switch_off_line(options)}"
    )
    query = select(Officer).where(Officer.role == task.role, Officer.disabled.is_(False))
    if task.agency:
        query = query.where(Officer.agency == task.agency)
    for officer in session.scalars(query):
        _email_officer(session, officer, case.id, ESCALATION_SUBJECT, body, "escalation")


def after_save(session: Session, case: Case, new_tasks: list[OpenTask]) -> None:
    """Alert officers of escalations among the tasks a step just opened."""
    for task in new_tasks:
        if task.task_spec == ESCALATION_TASK:
            escalated(session, case, task)


def _email_officer(
    session: Session, officer: Officer, case_id: int, subject: str, body: str, purpose: str
) -> None:
    if not officer.task_emails or not officer.email:
        return
    session.add(
        OutboxMessage(
            channel="email",
            recipient_email=officer.email,
            case_id=case_id,
            purpose=purpose,
            subject=subject,
            body=body,
            status="queued",
            attempts=0,
        )
    )


def _track_line(options: Options) -> str:
    return f"You can see where your case is at {options.link('/track')} with your reference."


def _switch_off_line(options: Options) -> str:
    return f"You can switch these emails off: {options.link('/account/notifications')}"
