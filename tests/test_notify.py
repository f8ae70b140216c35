"""GOV.UK Notify as a delivery channel, against a fake Notify on loopback (tests/notify_fake.py).

Emails, text messages and letters Notify prints and posts; its refusals sorted into permanent
(4xx: fail at once, that message alone) and passing (429, 5xx, no answer: retried); delivery
receipts (callbacks with a bearer token) shown as the letter's status on the case page.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_HASHING
from tests.notify_fake import (
    API_KEY,
    EMAIL_TEMPLATE,
    LETTER_EMAIL_TEMPLATE,
    SMS_TEMPLATE,
    FakeNotify,
    notify_server,
)
from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.mail import notifications, outbox
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case, Letter, OutboxMessage

CALLBACK_TOKEN = "callback-token-from-notify-settings"
BY_PHONE = {
    **APPLICATION,
    "applicant": {
        **APPLICATION["applicant"],
        "preferred_contact": "phone",
        "phone": "07700 900123",
    },
}


@pytest.fixture
def fake_notify() -> Iterator[tuple[FakeNotify, str]]:
    """Run the fake GOV.UK Notify for the test."""
    with notify_server() as running:
        yield running


@pytest.fixture
def settings(database_url: str, tmp_path: Path, fake_notify: tuple[FakeNotify, str]) -> Settings:
    """Settings for a test app that sends through the fake Notify, letters for post included."""
    return Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret",
        testing=True,
        argon2_time_cost=TEST_HASHING.time_cost,
        argon2_memory_kib=TEST_HASHING.memory_kib,
        notify_api_key=API_KEY,
        notify_base_url=fake_notify[1],
        notify_email_template_id=EMAIL_TEMPLATE,
        notify_sms_template_id=SMS_TEMPLATE,
        notify_letter_email_template_id=LETTER_EMAIL_TEMPLATE,
        notify_letters=True,
        notify_callback_token=CALLBACK_TOKEN,
        public_base_url="https://asb.example.gov.uk",
    )


def _acknowledged(client: FlaskClient, sessions: sessionmaker[Session], data: Any) -> str:
    case = CaseDriver(client, sessions)
    case.apply(data)
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    case.sign_out()
    return case.reference


def _messages(sessions: sessionmaker[Session], reference: str) -> list[OutboxMessage]:
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        letter_ids = select(Letter.id).where(Letter.case_id == case_id)
        query = select(OutboxMessage).where(
            (OutboxMessage.case_id == case_id) | OutboxMessage.letter_id.in_(letter_ids)
        )
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def _queue(sessions: sessionmaker[Session], *addresses: str) -> list[int]:
    with sessions() as session:
        rows = [
            OutboxMessage(
                channel="email",
                recipient_email=address,
                purpose="task",
                subject=notifications.TASK_SUBJECT,
                body="A task",
                status="queued",
                attempts=0,
            )
            for address in addresses
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def test_notify_sends_emails_texts_and_posted_letters_with_the_client_s_signed_token(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake_notify: tuple[FakeNotify, str],
) -> None:
    """An applicant who chose email gets the stage message and the letter (a link to its PDF,
    kept by Notify) by email; one who chose phone gets a text, and the letter is posted by
    Notify from our PDF. Every request carried a JWT the fake checked."""
    fake, _ = fake_notify
    by_email = _acknowledged(client, sessions, APPLICATION)
    by_phone = _acknowledged(client, sessions, BY_PHONE)
    assert [m.channel for m in _messages(sessions, by_email)] == ["email", "email"]
    assert [m.channel for m in _messages(sessions, by_phone)] == ["sms", "post"]

    report = outbox.send_due(sessions, outbox.mail_server_from(settings))

    assert len(report.sent) == 4 and not report.retrying and not report.failed
    assert fake.refused == []
    emails, texts, letters = fake.of_kind("email"), fake.of_kind("sms"), fake.of_kind("letter")
    stage_email = next(e for e in emails if e.body["template_id"] == EMAIL_TEMPLATE)
    assert stage_email.body["email_address"] == "alex@example.org"
    assert stage_email.body["personalisation"]["subject"] == notifications.APPLICANT_SUBJECT
    assert by_email in stage_email.body["personalisation"]["body"]
    letter_email = next(e for e in emails if e.body["template_id"] == LETTER_EMAIL_TEMPLATE)
    upload = letter_email.body["personalisation"]["link_to_file"]
    assert base64.b64decode(upload["file"]).startswith(b"%PDF")
    assert upload["confirm_email_before_download"] is True
    assert [t.body["phone_number"] for t in texts] == ["07700 900123"]
    assert by_phone in texts[0].body["personalisation"]["body"]
    assert texts[0].body["template_id"] == SMS_TEMPLATE
    (posted,) = letters
    assert posted.body["postage"] == "second"
    assert base64.b64decode(posted.body["content"]).startswith(b"%PDF")
    for message in _messages(sessions, by_email) + _messages(sessions, by_phone):
        assert message.status == "sent" and message.delivery_status == "created"
        assert message.provider_id in {s.id for s in fake.sent}
    # The reference Notify got is the same on every attempt: outbox-<id>, or letter-<id>.
    assert posted.body["reference"].startswith("letter-")


def test_notify_refusing_one_message_fails_it_alone_and_server_errors_are_retried(
    sessions: sessionmaker[Session], settings: Settings, fake_notify: tuple[FakeNotify, str]
) -> None:
    """A 400 for one address fails that message at once (no retries can help); a 500 and a 429
    are retried later, with the error kept; the other messages are sent."""
    fake, _ = fake_notify
    # limited@ is answered 429: Notify's rate limit.
    fake.refuse_recipients = {
        "bad@example.org": 400,
        "busy@example.org": 500,
        "limited@example.org": 429,
    }
    bad, busy, limited, good = _queue(
        sessions, "bad@example.org", "busy@example.org", "limited@example.org", "ok@example.org"
    )

    report = outbox.send_due(sessions, outbox.mail_server_from(settings), max_attempts=5)

    assert report.failed == [bad] and sorted(report.retrying) == [busy, limited]
    assert report.sent == [good]
    with sessions() as session:
        rows = {m.id: m for m in session.scalars(select(OutboxMessage))}
    assert (rows[bad].status, rows[bad].attempts) == ("failed", 1)
    assert "GOV.UK Notify answered 400" in (rows[bad].last_error or "")
    for retried in (busy, limited):
        assert rows[retried].status == "queued" and rows[retried].next_attempt_at is not None
    assert "answered 500" in (rows[busy].last_error or "")
    assert "answered 429" in (rows[limited].last_error or "")
    assert rows[good].status == "sent"


def test_notify_not_answering_in_time_is_retried(
    sessions: sessionmaker[Session], settings: Settings, fake_notify: tuple[FakeNotify, str]
) -> None:
    """A request Notify does not answer within the timeout is tried again later."""
    fake, _ = fake_notify
    fake.stall_seconds = 1.5
    (message_id,) = _queue(sessions, "slow@example.org")
    server = outbox.mail_server_from(settings)
    assert server.notify is not None
    server = replace(server, notify=replace(server.notify, timeout=0.3))

    report = outbox.send_due(sessions, server)

    assert report.retrying == [message_id]
    with sessions() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.status == "queued" and row.next_attempt_at is not None


def test_notify_refuses_a_token_signed_with_the_wrong_key_and_the_message_waits_for_a_person(
    sessions: sessionmaker[Session], settings: Settings, fake_notify: tuple[FakeNotify, str]
) -> None:
    """The fake checks the JWT: a key with the wrong secret gets 403, which fails at once."""
    fake, _ = fake_notify
    (message_id,) = _queue(sessions, "ok@example.org")
    server = outbox.mail_server_from(settings)
    assert server.notify is not None
    wrong_key = API_KEY[:-36] + "00000000-0000-4000-8000-000000000000"
    server = replace(server, notify=replace(server.notify, api_key=wrong_key))

    report = outbox.send_due(sessions, server)

    assert report.failed == [message_id] and fake.sent == []
    assert fake.refused == [(403, "email")]


def _receipt(client: FlaskClient, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/notify/receipts", json=body, headers=headers)


def test_delivery_receipts_set_the_letter_s_status_on_the_case_page(
    client: FlaskClient,
    raw_client: FlaskClient,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Notify's callback (with the configured bearer token, no CSRF token) sets the delivery
    status of the letter it names, which the case page shows; a wrong or missing token, an
    unknown id and an unknown status are refused and change nothing."""
    reference = _acknowledged(client, sessions, APPLICATION)
    outbox.send_due(sessions, outbox.mail_server_from(settings))
    with sessions() as session:
        letter_message = session.scalar(
            select(OutboxMessage).where(OutboxMessage.letter_id.is_not(None))
        )
        assert letter_message is not None and letter_message.provider_id
        provider_id = letter_message.provider_id
    receipt = {"id": provider_id, "reference": "outbox-1", "status": "delivered", "to": "x"}

    assert _receipt(raw_client, "wrong-token", receipt).status_code == 401
    assert _receipt(raw_client, None, receipt).status_code == 401
    assert _receipt(raw_client, CALLBACK_TOKEN, {**receipt, "id": "no-such-id"}).status_code == 404
    bad_status = _receipt(raw_client, CALLBACK_TOKEN, {**receipt, "status": "lost"})
    assert bad_status.status_code == 422 and "not a Notify status" in bad_status.json["message"]
    with sessions() as session:
        assert session.get(OutboxMessage, letter_message.id).delivery_status == "created"  # type: ignore[union-attr]

    accepted = _receipt(raw_client, CALLBACK_TOKEN, receipt)
    assert accepted.status_code == 200, accepted.text
    CaseDriver(client, sessions).act_as("carol")
    page = client.get(f"/cases/{reference}")
    assert "Delivered" in page.text

    failed = _receipt(raw_client, CALLBACK_TOKEN, {**receipt, "status": "technical-failure"})
    assert failed.status_code == 200
    page = client.get(f"/cases/{reference}")
    assert "Not delivered: a fault at GOV.UK Notify" in page.text
    assert "govuk-tag--red letter-status" in page.text


def test_notify_is_configured_from_environment_variables_and_half_a_configuration_is_refused() -> (
    None
):
    """The key turns Notify on (with its templates); NOTIFY_LETTERS reads true/false; a key
    without its templates, or a flag that is not true or false, is refused at start-up."""
    env = {
        "TRIGGER_WORKFLOW_NOTIFY_API_KEY": API_KEY,
        "TRIGGER_WORKFLOW_NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
        "TRIGGER_WORKFLOW_NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
        "TRIGGER_WORKFLOW_NOTIFY_LETTERS": "yes",
        "TRIGGER_WORKFLOW_NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
    }
    settings = Settings.from_env(env)
    server = outbox.mail_server_from(settings)
    assert server.notify is not None and server.notify.letters is True
    assert server.channels == ("email", "sms", "post")
    assert notifications.options_from(settings) == notifications.Options(
        texts=True, post_by_notify=True, base_url=""
    )
    assert outbox.mail_server_from(Settings.from_env({})).channels == ("email",)
    with pytest.raises(ValueError, match="NOTIFY_SMS_TEMPLATE_ID must be set"):
        Settings.from_env({k: v for k, v in env.items() if "SMS" not in k})
    with pytest.raises(ValueError, match="Expected true or false"):
        Settings.from_env({**env, "TRIGGER_WORKFLOW_NOTIFY_LETTERS": "maybe"})
