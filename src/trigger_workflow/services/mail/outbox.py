"""Deliver letters and notifications: email (SMTP or GOV.UK Notify), text, post, or print them.

A notification (a short stage update, a task alert, a one-time code) is an outbox row with no
letter, delivered by the same sender under the same rules. When GOV.UK Notify is configured
(``notify``), emails and text messages go through it, and letters for post may too (channel
``post``); Notify's refusals of a message itself (4xx) fail that message at once, and its
5xx answers and timeouts are retried like a mail server's.

Every letter gets one outbox row when it is written (``letters.write_after_task``). An email row
is ``queued`` until a sender delivers it (``sent``); a failure of any kind (the server, the
address, the PDF) records the error on that letter alone and tries again later, waiting twice as
long each time, until ``max_attempts``, when the row becomes ``failed`` for a person to look at
(send it again, or print it instead). A print row waits in the print
queue until the coordinator marks it ``printed`` (and posted).

An email is sent while its row is held, and marked sent in the same transaction: if the process
dies after the mail server took the email but before that commit, the email is sent again on
the next pass (with the same Message-ID). That window is the only way a letter goes twice.

Senders may run side by side: each claims one row at a time by bumping its attempt counter with
a conditional UPDATE, so a row taken by one sender is skipped by the others (``SKIP LOCKED`` on
PostgreSQL; on SQLite the database lock makes the second sender wait and then see the new count).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.errors import NotFound, NotPermitted, TriggerWorkflowError
from trigger_workflow.schema_forms.formats import email_problem
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import COORDINATOR, Actor
from trigger_workflow.services.mail import letters, notify
from trigger_workflow.store.models import Case, Letter, OutboxMessage, utcnow

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
BATCH = 100  # emails per pass; a sender with a full batch goes on at once


@dataclass(frozen=True)
class MailServer:
    """The SMTP server letters are sent through (from settings)."""

    host: str
    port: int
    sender: str
    security: str = "none"  # none / starttls / ssl
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    # GOV.UK Notify, when configured: emails and texts (and letters for post) go through it.
    notify: notify.NotifySettings | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """Return the channels this sender delivers (text and post need Notify)."""
        return ("email", "sms", "post") if self.notify else ("email",)


def mail_server_from(settings: Any) -> MailServer:
    """Return the mail server (and GOV.UK Notify, if configured) the settings name."""
    return MailServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password,
        notify=notify.notify_from(settings),
    )


@dataclass
class SendReport:
    """What one pass of the sender did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def send_due(
    sessions: sessionmaker[Session],
    server: MailServer,
    max_attempts: int = 5,
    now: datetime | None = None,
    limit: int = BATCH,
) -> SendReport:
    """Send up to `limit` emails that are due, one transaction per email; return what happened.

    Whatever goes wrong with one letter (an address that cannot be put in a header, a PDF that
    will not render, a refusal from the server) is recorded on that letter alone, and the pass
    goes on with the next one.
    """
    report = SendReport()
    passed_over: set[int] = set()  # letters whose failure could not even be recorded
    client = server.notify.client() if server.notify else None
    for _ in range(limit):
        with sessions() as session:
            message = _claim_next(session, now or utcnow(), passed_over, server.channels)
            if message is None:
                return report
            message_id = message.id
            try:
                _send_one(session, server, client, message, max_attempts, now or utcnow(), report)
                session.commit()
            except Exception:
                # Even the failure could not be written (the database went away?): leave the
                # row as it was for a later pass, and go on with the others.
                session.rollback()
                passed_over.add(message_id)
                log.exception("Could not record what happened to outbox letter %s", message_id)
    return report


def _send_one(
    session: Session,
    server: MailServer,
    client: Any,
    message: OutboxMessage,
    max_attempts: int,
    now: datetime,
    report: SendReport,
) -> None:
    """Build and send one claimed message inside a savepoint; record success or failure on it."""
    try:
        with session.begin_nested():
            provider_id = _deliver_message(session, server, client, message)
    except Exception as error:
        # The savepoint is rolled back (a PostgreSQL error no longer poisons the transaction);
        # the claim, and so the attempt, stays.
        if not isinstance(error, smtplib.SMTPException | OSError):
            log.warning("Outbox message %s could not be sent: %s", message.id, error)
        _record_failure(message, error, max_attempts, now)
        (report.failed if message.status == "failed" else report.retrying).append(message.id)
        return
    message.status, message.sent_at, message.last_error = "sent", utcnow(), None
    message.next_attempt_at = None
    if provider_id:
        message.provider_id, message.delivery_status = provider_id, "created"
        message.delivery_updated_at = utcnow()
    report.sent.append(message.id)


def _deliver_message(
    session: Session, server: MailServer, client: Any, message: OutboxMessage
) -> str | None:
    """Send one message by its channel; return GOV.UK Notify's id for it, if Notify sent it."""
    reference = f"outbox-{message.id}"  # the same on every attempt
    if message.channel == "sms":
        if server.notify is None:
            raise notify.NotifyNotSetUp("Text messages need GOV.UK Notify, which is not set up.")
        return notify.send_sms(
            client, server.notify, message.recipient_phone or "", message.body or "", reference
        )
    if message.letter_id is None:  # a notification by email
        to = _checked_address(message)
        if server.notify is not None:
            return notify.send_email(
                client, server.notify, to, message.subject or "", message.body or "", reference
            )
        _deliver(server, _notification_email(message, to))
        return None
    letter = session.get(Letter, message.letter_id)
    assert letter is not None
    case_reference = session.scalar(select(Case.reference).where(Case.id == letter.case_id))
    if message.channel == "post":
        if server.notify is None:
            raise notify.NotifyNotSetUp("Posting through GOV.UK Notify is not set up.")
        return notify.send_precompiled_letter(
            client, letters.ensure_pdf(session, letter), f"letter-{letter.id}"
        )
    if server.notify is not None:
        return notify.send_letter_email(
            client,
            server.notify,
            _checked_address(message),
            letter.subject,
            _covering_note(letter, case_reference),
            letters.ensure_pdf(session, letter),
            _filename(letter, case_reference),
            reference,
        )
    _deliver(server, _email_for(session, message))
    return None


def _claim_next(
    session: Session,
    now: datetime,
    passed_over: set[int] | None = None,
    channels: tuple[str, ...] = ("email",),
) -> OutboxMessage | None:
    """Take the next due email for this sender, or None; other senders skip it until we commit.

    One statement picks and claims the row: PostgreSQL skips rows other senders hold
    (``FOR UPDATE SKIP LOCKED``); SQLite runs one writer at a time, so a second sender waits,
    then picks among the rows still queued.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel.in_(channels),
            OutboxMessage.status == "queued",
            (OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now),
            OutboxMessage.id.not_in(passed_over or ()),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = session.scalar(
        update(OutboxMessage)
        .where(OutboxMessage.id == due, OutboxMessage.status == "queued")
        .values(attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        return None
    return session.get(OutboxMessage, claimed, populate_existing=True)


def _record_failure(message: OutboxMessage, error: Exception, most: int, now: datetime) -> None:
    message.last_error = notify.describe(error)[:2000]
    # GOV.UK Notify refused the message itself (a bad number, a template that does not fit):
    # trying again cannot help, so it waits for a person at once.
    if message.attempts >= most or notify.is_permanent(error):
        message.status, message.next_attempt_at = "failed", None
        return
    wait = min(FIRST_RETRY * 2 ** (message.attempts - 1), LONGEST_WAIT)
    message.next_attempt_at = now + wait


def _checked_address(message: OutboxMessage) -> str:
    problem = email_problem(message.recipient_email or "")
    if problem is not None:
        raise ValueError(
            f"The address {message.recipient_email!r} cannot be emailed ({problem}) "
            + ("Print and post the letter instead." if message.letter_id else "")
        )
    return message.recipient_email or ""


def _notification_email(message: OutboxMessage, to: str) -> EmailMessage:
    """A short notification as a plain-text email (its subject never says anything personal)."""
    email = EmailMessage()
    email["Subject"] = message.subject or ""
    email["To"] = to
    email["Message-ID"] = f"<outbox-{message.id}@trigger-workflow.invalid>"
    email.set_content(message.body or "")
    return email


def _covering_note(letter: Letter, reference: str | None) -> str:
    return (
        f"Dear {letter.recipient_name},\n\nPlease find our letter about your ASB case review, "
        f"reference {reference}, at the link below."
    )


def _filename(letter: Letter, reference: str | None) -> str:
    return f"{reference}-{letter.kind.replace('_', '-')}.pdf"


def _email_for(session: Session, message: OutboxMessage) -> EmailMessage:
    letter = session.get(Letter, message.letter_id)
    assert letter is not None
    reference = session.scalar(select(Case.reference).where(Case.id == letter.case_id))
    _checked_address(message)
    email = EmailMessage()
    email["Subject"] = letter.subject
    email["To"] = message.recipient_email or ""
    # The same id on every attempt: if a crash after the server took the email makes us send it
    # again, mail systems can recognise the copy.
    email["Message-ID"] = f"<letter-{letter.id}.{reference}@trigger-workflow.invalid>"
    email["X-Case-Reference"] = reference or ""
    email.set_content(
        f"Dear {letter.recipient_name},\n\nPlease find attached our letter about your ASB case "
        f"review, reference {reference}.\n\nThe letter is also below, and attached as a PDF.\n"
    )
    email.add_alternative(letter.html, subtype="html")
    email.add_attachment(
        letters.ensure_pdf(session, letter),
        maintype="application",
        subtype="pdf",
        filename=_filename(letter, reference),
    )
    return email


def _deliver(server: MailServer, email: EmailMessage) -> None:
    email["From"] = server.sender
    smtp_class: Any = smtplib.SMTP_SSL if server.security == "ssl" else smtplib.SMTP
    with smtp_class(server.host, server.port, timeout=server.timeout) as smtp:
        if server.security == "starttls":
            smtp.starttls()
        if server.user:
            smtp.login(server.user, server.password)
        smtp.send_message(email)


def print_queue(
    session: Session, letters: Sequence[ColumnElement[bool]] = ()
) -> list[OutboxMessage]:
    """Return the letters waiting to be printed and posted, oldest first (of the letters that
    meet the conditions `letters`, if given: an officer's authorities)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == "print", OutboxMessage.status == "queued")
        .where(*_of_letters(letters))
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


def needing_attention(
    session: Session, letters: Sequence[ColumnElement[bool]] = ()
) -> list[OutboxMessage]:
    """Return the emails the sender gave up on, for a person to resend or print."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed", *_of_letters(letters))
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


def _of_letters(letters: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    if not letters:
        return []
    return [OutboxMessage.letter_id.in_(select(Letter.id).where(*letters))]


def mark_printed(session: Session, message_id: int, actor: Actor) -> OutboxMessage:
    """Record that a letter in the print queue was printed and posted."""
    message = _for_coordinator(session, message_id, actor)
    if message.channel != "print" or message.status != "queued":
        raise TriggerWorkflowError(
            f"Letter {message_id} is not waiting to be printed (it is {message.status}).",
        )
    message.status, message.sent_at, message.done_by = "printed", utcnow(), actor.username
    session.commit()
    return message


def print_instead(session: Session, message_id: int, actor: Actor) -> OutboxMessage:
    """Move an email the sender gave up on to the print queue."""
    message = _for_coordinator(session, message_id, actor)
    if message.status != "failed":
        raise TriggerWorkflowError(f"Letter {message_id} has not failed (it is {message.status}).")
    if message.letter_id is None:
        raise TriggerWorkflowError(
            f"Message {message_id} is a notification, not a letter to print."
        )
    message.channel, message.status, message.done_by = "print", "queued", actor.username
    session.commit()
    return message


def retry(session: Session, message_id: int, actor: Actor) -> OutboxMessage:
    """Give an email the sender gave up on a fresh set of attempts, starting now."""
    message = _for_coordinator(session, message_id, actor)
    if message.status != "failed":
        raise TriggerWorkflowError(f"Letter {message_id} has not failed (it is {message.status}).")
    message.status, message.attempts, message.next_attempt_at = "queued", 0, None
    message.done_by = actor.username
    session.commit()
    return message


def _for_coordinator(session: Session, message_id: int, actor: Actor) -> OutboxMessage:
    if actor.role != COORDINATOR:
        raise NotPermitted("Only the case review coordinator handles the outbox.")
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    case_id = None
    if message is not None:
        case_id = message.letter.case_id if message.letter is not None else message.case_id
    case = session.get(Case, case_id) if case_id is not None else None
    if message is None or case is None or not access.serves(actor, case):
        raise NotFound(f"There is no outbox letter {message_id}.")
    return message
