"""Hostile email addresses (issue 11): refused where they come in, and one bad letter fails alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.letters_helpers import letters_of, stage_messages_sent
from tests.scenario import ANSWERS, CaseDriver
from tests.smtp import Mailbox, smtp_server
from tests.uploads import field_error, post_form, received_on
from trigger_workflow import schema_forms
from trigger_workflow.cli import main
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.mail import outbox
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case, Document, OutboxMessage, utcnow

INJECTED = "alex@example.org\r\nBcc: everyone@example.org"
EMAIL_FIELD = {"title": "Email address", "type": "string", "format": "email"}
WRONG_FORMAT = "Enter email address in the correct format, like name@example.com"


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, outbox.MailServer]]:
    """Run a real SMTP server on loopback and return its mailbox and how to reach it."""
    with smtp_server() as (mailbox, port):
        yield mailbox, outbox.MailServer("127.0.0.1", port, "asb@council.example", timeout=10)


def _with_email(address: str) -> dict[str, Any]:
    return dict(APPLICATION, applicant=dict(APPLICATION["applicant"], email=address))


def _cases(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


@pytest.mark.parametrize(
    "address",
    [
        INJECTED,
        "alex@example.org\nBcc: everyone@example.org",
        "alex@example",  # no dot after the @
        "alex smith@example.org",
        "alex@@example.org",
        "alex@example..org",
        "<alex@example.org>",
        "x" * 250 + "@example.org",
    ],
)
def test_addresses_a_mail_system_refuses_are_refused_by_every_email_field(address: str) -> None:
    """Every `format: email` answer is checked as an address, not only for an '@'."""
    schema = {"type": "object", "properties": {"email": EMAIL_FIELD}}
    [error] = schema_forms.validate(schema, {"email": address})
    assert (error.path, error.message) == (("email",), WRONG_FORMAT)


@pytest.mark.parametrize("address", ["alex@example.org", "a.b+case@council.example", "zoë@ex.org"])
def test_ordinary_addresses_are_still_accepted(address: str) -> None:
    """Ordinary and international addresses pass (no DNS look-up is made)."""
    schema = {"type": "object", "properties": {"email": EMAIL_FIELD}}
    assert schema_forms.validate(schema, {"email": address}) == []


def test_public_form_refuses_an_address_with_a_line_break_beside_the_field(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R2: the anonymous form says what is wrong beside the email field; no case is made."""
    response = post_form(client, "/apply", _with_email(INJECTED))
    assert response.status_code == 422
    assert field_error(response.text, "applicant-email") == WRONG_FORMAT
    assert 'href="#applicant-email"' in response.text
    assert _cases(sessions) == 0


def test_officer_form_and_json_api_refuse_a_bad_address(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R2: an officer entering an application, by form or by API, cannot store a bad address."""
    CaseDriver(client, sessions).act_as("carol")
    page = post_form(
        client, "/cases/new", dict(_with_email(INJECTED), channel="phone"), extra=received_on()
    )
    assert page.status_code == 422
    assert field_error(page.text, "applicant-email") == WRONG_FORMAT
    response = client.post(
        "/api/applications",
        json={
            "data": dict(_with_email("alex@example"), channel="email"),
            "received_on": "2026-11-20",
        },
    )
    assert response.status_code == 422
    assert response.json["details"] == [{"field": "applicant.email", "message": WRONG_FORMAT}]
    assert _cases(sessions) == 0


def _acknowledged_cases(
    client: FlaskClient, sessions: sessionmaker[Session], count: int
) -> list[str]:
    """Apply `count` times (each applicant chose email) and acknowledge each: one letter each."""
    references = []
    for _ in range(count):
        case = CaseDriver(client, sessions)
        case.apply()
        stage_messages_sent(sessions)
        case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
        references.append(case.reference)
    return references


def _break_address(sessions: sessionmaker[Session], reference: str) -> int:
    """Write a line break into a letter's address straight into the database (old data)."""
    [(_, message)] = letters_of(sessions, reference)
    with sessions() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(recipient_email="alex@example.org\nBcc: everyone@example.org")
        )
        session.commit()
    return message.id


def test_one_letter_with_a_bad_address_fails_alone_and_the_next_are_sent(
    client: FlaskClient, sessions: sessionmaker[Session], mail: tuple[Mailbox, outbox.MailServer]
) -> None:
    """R5: a bad address is recorded on its letter (attempts, error, backoff, then Failed)."""
    mailbox, server = mail
    first, second, third = _acknowledged_cases(client, sessions, 3)
    bad = _break_address(sessions, first)
    now = utcnow()
    report = outbox.send_due(sessions, server, max_attempts=2, now=now)
    assert (report.retrying, len(report.sent)) == ([bad], 2)
    assert sorted(m["X-Case-Reference"] for m in mailbox.messages) == sorted([second, third])
    [(_, message)] = letters_of(sessions, first)
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert "cannot be emailed" in (message.last_error or "")
    assert outbox.send_due(sessions, server, max_attempts=2, now=now).retrying == []  # waits
    later = outbox.send_due(sessions, server, max_attempts=2, now=now + timedelta(minutes=1))
    assert later.failed == [bad]
    [(_, message)] = letters_of(sessions, first)
    assert (message.status, message.attempts) == ("failed", 2)
    assert len(mailbox.messages) == 2  # the bad one never went out, in any form
    page = client.get("/outbox")  # as carol, who acknowledged
    assert (
        "Emails, texts and letters that could not be sent" in page.text
        and "cannot be emailed" in page.text
    )


def test_worker_pass_goes_on_past_a_bad_letter_to_the_uploads_clean_up(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    mail: tuple[Mailbox, outbox.MailServer],
    database_url: str,
    settings: Settings,
) -> None:
    """`worker --once` with a bad letter queued first: the others go, stale uploads are deleted."""
    mailbox, server = mail
    first, second = _acknowledged_cases(client, sessions, 2)
    _break_address(sessions, first)
    folder = settings.instance_path / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stale.pdf").write_bytes(b"%PDF-1.4 never claimed")
    with sessions() as session:
        session.add(
            Document(
                token="stale-token",
                purpose="consent_document",
                original_name="consent.pdf",
                content_type="application/pdf",
                size=22,
                sha256="0" * 64,
                stored_name="stale.pdf",
                uploaded_by="public",
                uploaded_at=utcnow() - timedelta(days=2),
            )
        )
        session.commit()
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(settings.instance_path),
        "TRIGGER_WORKFLOW_SMTP_HOST": "127.0.0.1",
        "TRIGGER_WORKFLOW_SMTP_PORT": str(server.port),
    }
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "Letters emailed 1, to retry 1, failed 0." in result.output
    assert [m["X-Case-Reference"] for m in mailbox.messages] == [second]
    assert not (folder / "stale.pdf").exists()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
