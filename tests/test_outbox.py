"""The outbox: letters emailed over a real SMTP server exactly once, retried, or printed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.letters_helpers import letters_of, stage_messages_sent
from tests.scenario import ANSWERS, CaseDriver
from tests.smtp import Mailbox, refusing_port, smtp_server
from trigger_workflow.cli import main
from trigger_workflow.services.mail import outbox
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Letter, OutboxMessage, utcnow


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, outbox.MailServer]]:
    """Run a real SMTP server on loopback and return its mailbox and how to reach it."""
    with smtp_server() as (mailbox, port):
        yield mailbox, outbox.MailServer("127.0.0.1", port, "asb@council.example", timeout=10)


def acknowledged_case(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    """Apply (the sample applicant chose email) and acknowledge: one letter is queued."""
    case = CaseDriver(client, sessions)
    case.apply()
    stage_messages_sent(sessions)
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    return case


def test_r5_letter_is_emailed_once_with_its_pdf_attached(
    client: FlaskClient, sessions: sessionmaker[Session], mail: tuple[Mailbox, outbox.MailServer]
) -> None:
    """R5: the acknowledgement goes by email to the applicant, PDF attached, and only once."""
    mailbox, server = mail
    case = acknowledged_case(client, sessions)
    report = outbox.send_due(sessions, server)
    assert len(report.sent) == 1
    assert outbox.send_due(sessions, server).sent == []  # a second pass finds nothing due
    [email] = mailbox.messages
    [(letter, message)] = letters_of(sessions, case.reference)
    assert email["X-Envelope-To"] == "alex@example.org"
    assert email["To"] == "alex@example.org"
    assert email["From"] == "asb@council.example"
    assert (
        email["Subject"].strip() == letter.subject
    )  # a long header is folded; unfolding keeps a space
    assert case.reference in email["Subject"]
    assert email["X-Case-Reference"] == case.reference
    assert email["Message-ID"] == f"<letter-{letter.id}.{case.reference}@trigger-workflow.invalid>"
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == f"{case.reference}-acknowledgement.pdf"
    assert attachment.get_content() == letter.pdf
    html = email.get_body(preferencelist=("html",))
    assert html is not None and case.reference in html.get_content()
    assert (message.status, message.attempts, message.sent_at is not None) == ("sent", 1, True)
    assert "Sent" in client.get(f"/cases/{case.reference}").text


def test_refused_email_is_retried_later_and_sent_when_the_server_recovers(
    client: FlaskClient, sessions: sessionmaker[Session], mail: tuple[Mailbox, outbox.MailServer]
) -> None:
    """A 451 from the server is recorded; the email waits, then goes once the server takes it."""
    mailbox, server = mail
    case = acknowledged_case(client, sessions)
    mailbox.refuse = 2
    now = utcnow()
    first = outbox.send_due(sessions, server, now=now)
    assert (first.sent, len(first.retrying)) == ([], 1)
    [(_, message)] = letters_of(sessions, case.reference)
    assert message.status == "queued" and message.attempts == 1
    assert message.last_error is not None and "451" in message.last_error
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert "will try again" in client.get(f"/cases/{case.reference}").text
    assert outbox.send_due(sessions, server, now=now).retrying == []  # not due yet: untouched
    second = outbox.send_due(sessions, server, now=now + timedelta(minutes=1))
    assert len(second.retrying) == 1  # refused again: waits twice as long
    [(_, message)] = letters_of(sessions, case.reference)
    assert message.next_attempt_at == now + timedelta(minutes=1) + timedelta(minutes=2)
    third = outbox.send_due(sessions, server, now=now + timedelta(minutes=3))
    assert len(third.sent) == 1
    assert (mailbox.refused, len(mailbox.messages)) == (2, 1)
    [(_, message)] = letters_of(sessions, case.reference)
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, None)


def test_email_is_flagged_for_a_person_after_the_last_attempt(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """With no mail server, attempts stop at the limit; the coordinator retries or prints it."""
    with refusing_port() as port:
        server = outbox.MailServer("127.0.0.1", port, "asb@council.example", timeout=5)
        case = acknowledged_case(client, sessions)
        now = utcnow()
        assert len(outbox.send_due(sessions, server, max_attempts=2, now=now).retrying) == 1
        later = now + timedelta(hours=1)
        assert len(outbox.send_due(sessions, server, max_attempts=2, now=later).failed) == 1
        [(_, message)] = letters_of(sessions, case.reference)
        assert message.status == "failed" and "ConnectionRefusedError" in (message.last_error or "")
        assert (
            outbox.send_due(sessions, server, max_attempts=2, now=later + timedelta(days=1)).failed
            == []
        )
    page = client.get("/outbox")  # as carol, who acknowledged
    assert (
        "Emails, texts and letters that could not be sent" in page.text
        and "alex@example.org" in page.text
    )
    assert "Failed" in client.get(f"/cases/{case.reference}").text
    assert client.post(f"/outbox/{message.id}/print").status_code == 302
    [(_, message)] = letters_of(sessions, case.reference)
    assert (message.channel, message.status) == ("print", "queued")
    assert "1 Example Street, Derby" in client.get("/outbox").text


def test_coordinator_can_send_a_failed_email_again(
    client: FlaskClient, sessions: sessionmaker[Session], mail: tuple[Mailbox, outbox.MailServer]
) -> None:
    """'Try again' gives a failed email a fresh set of attempts, and the sender delivers it."""
    mailbox, server = mail
    case = acknowledged_case(client, sessions)
    mailbox.refuse = 1
    assert len(outbox.send_due(sessions, server, max_attempts=1).failed) == 1
    [(_, message)] = letters_of(sessions, case.reference)
    assert client.post(f"/outbox/{message.id}/retry").status_code == 302
    assert len(outbox.send_due(sessions, server, max_attempts=1).sent) == 1
    assert len(mailbox.messages) == 1


def test_two_senders_at_once_send_each_letter_exactly_once(
    client: FlaskClient, sessions: sessionmaker[Session], mail: tuple[Mailbox, outbox.MailServer]
) -> None:
    """Two senders running together share the work: every email goes out exactly once."""
    mailbox, server = mail
    case = acknowledged_case(client, sessions)
    with sessions() as session:
        [letter] = session.scalars(select(Letter)).all()
        for number in range(15):
            copy = Letter(
                case_id=letter.case_id,
                kind=letter.kind,
                task_id=f"copy-{number}",
                subject=f"{letter.subject} ({number})",
                recipient_name=letter.recipient_name,
                html=letter.html,
                html_sha256=letter.html_sha256,
                pdf=letter.pdf,
                pdf_sha256=letter.pdf_sha256,
                created_by="test",
            )
            copy.outbox = OutboxMessage(
                channel="email", recipient_email="alex@example.org", status="queued", attempts=0
            )
            session.add(copy)
        session.commit()
    reports: list[outbox.SendReport] = []
    barrier = threading.Barrier(2)

    def sender() -> None:
        barrier.wait()
        reports.append(outbox.send_due(sessions, server))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = sorted(reports[0].sent + reports[1].sent)
    assert len(sent) == 16 and len(set(sent)) == 16
    ids = sorted(m["Message-ID"] for m in mailbox.messages)
    assert len(ids) == 16 and len(set(ids)) == 16
    with sessions() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
        assert set(statuses) == {"sent"}
    assert case.reference


def test_outbox_send_command_uses_the_smtp_settings(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    mail: tuple[Mailbox, outbox.MailServer],
    database_url: str,
) -> None:
    """`trigger-workflow outbox send --once` emails what is due through the configured server."""
    mailbox, server = mail
    acknowledged_case(client, sessions)
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_SMTP_HOST": "127.0.0.1",
        "TRIGGER_WORKFLOW_SMTP_PORT": str(server.port),
        "TRIGGER_WORKFLOW_MAIL_FROM": "letters@council.example",
    }
    result = CliRunner().invoke(main, ["outbox", "send", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "Sent 1, will retry 0, gave up on 0." in result.output
    assert mailbox.messages[0]["From"] == "letters@council.example"


def test_outbox_list_and_printed_commands(
    client: FlaskClient, sessions: sessionmaker[Session], database_url: str
) -> None:
    """The print queue from a terminal: list it, then mark a letter printed as the coordinator."""
    case = CaseDriver(client, sessions)
    from trigger_workflow.samples import APPLICATION

    applicant = dict(APPLICATION["applicant"], preferred_contact="post")
    case.apply(dict(APPLICATION, applicant=applicant))
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    [(_, message)] = letters_of(sessions, case.reference)
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    listed = CliRunner().invoke(main, ["outbox", "list"], env=env)
    assert f"print  {message.id:5}" in listed.output and "1 Example Street, Derby" in listed.output
    refused = CliRunner().invoke(
        main, ["outbox", "printed", str(message.id), "--as", "pete"], env=env
    )
    assert refused.exit_code == 1 and "Only the case review coordinator" in refused.output
    done = CliRunner().invoke(
        main, ["outbox", "printed", str(message.id), "--as", "carol"], env=env
    )
    assert done.exit_code == 0, done.output
    [(_, message)] = letters_of(sessions, case.reference)
    assert message.status == "printed"


def test_worker_makes_the_pdfs_and_emails_the_letters(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    mail: tuple[Mailbox, outbox.MailServer],
    database_url: str,
    settings: Settings,
) -> None:
    """`trigger-workflow worker --once` keeps each new letter's PDF and emails what is due."""
    mailbox, server = mail
    case = acknowledged_case(client, sessions)
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(settings.instance_path),
        "TRIGGER_WORKFLOW_SMTP_HOST": "127.0.0.1",
        "TRIGGER_WORKFLOW_SMTP_PORT": str(server.port),
    }
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "Letters emailed 1, to retry 0, failed 0." in result.output
    [(letter, message)] = letters_of(sessions, case.reference)
    assert letter.pdf is not None and message.status == "sent"
    [attachment] = list(mailbox.messages[0].iter_attachments())
    assert attachment.get_content() == letter.pdf
