"""Track your case: reference, one-time code by the applicant's own contact, then the stage and
letters; codes expire, work once, are kept hashed and rate-limited; nothing leaks (issue 14)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from tests.smtp import smtp_server
from trigger_workflow.engine.calendar import UK_TIME
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.mail import notifications, outbox
from trigger_workflow.store.models import Letter, OutboxMessage, TrackingCode

APPLICANT = APPLICATION["applicant"]
PERSONAL = [APPLICANT["name"], APPLICANT["email"], APPLICANT["address"], APPLICANT["postcode"]]
WRONG = "The code is wrong or has expired"


def _acknowledged(client: FlaskClient, sessions: sessionmaker[Session]) -> str:
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    case.sign_out()
    return case.reference


def _send_all(sessions: sessionmaker[Session]) -> list[str]:
    """Send the outbox over a real SMTP server on loopback; return the codes emailed."""
    with smtp_server() as (mailbox, port):
        outbox.send_due(sessions, outbox.MailServer("127.0.0.1", port, "asb@x.example", timeout=10))
    codes = []
    for email in mailbox.messages:
        if email["Subject"] == notifications.CODE_SUBJECT:
            assert email["To"] == APPLICANT["email"]
            found = re.search(r"code to see your ASB case review is (\d{6})", email.get_content())
            assert found is not None
            codes.append(found.group(1))
    return codes


def _ask(client: FlaskClient, reference: str, address: str = "198.51.100.7") -> int:
    response = client.post(
        "/track", data={"reference": reference}, environ_base={"REMOTE_ADDR": address}
    )
    return response.status_code


def _plain(page: str, reference: str) -> str:
    """The page without what differs on every response (CSRF token, script nonce) or its reference."""
    return re.sub(r'(nonce|value)="[^"]*"', "", page).replace(reference, "REF")


def _enter(client: FlaskClient, code: str) -> tuple[int, str]:
    response = client.post("/track/code", data={"code": code})
    return response.status_code, response.text


def test_applicant_sees_their_case_s_stage_and_letters_with_a_code_sent_to_their_email(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The code goes to the applicant's own address by email (through the outbox); with it the
    page shows the stage in words and the letter sent, downloadable; nothing personal is shown.
    The code is kept only as a hash."""
    reference = _acknowledged(client, sessions)
    _send_all(sessions)  # the acknowledgement letter is sent
    assert client.get("/track").status_code == 200
    assert _ask(client, reference.lower().replace("-", "- ")) == 302  # typed loosely: still found
    [code] = _send_all(sessions)
    with sessions() as session:
        [row] = session.scalars(select(TrackingCode)).all()
        assert code not in row.code_hash and len(row.code_hash) == 64

    status, _ = _enter(client, code)
    assert status == 302
    page = client.get("/track/case")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "deciding whether your application meets the threshold" in page.text
    with sessions() as session:
        letter = session.scalars(select(Letter)).one()
    assert letter.subject in page.text
    download = client.get(f"/track/letters/{letter.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    for personal in PERSONAL:
        assert personal not in page.text

    client.post("/track/finish")
    assert client.get("/track/case").status_code == 302
    assert client.get(f"/track/letters/{letter.id}").status_code == 404


def test_a_code_works_once_and_a_new_code_replaces_the_old(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Used once: entering it again is refused. Asking again burns the earlier code."""
    reference = _acknowledged(client, sessions)
    _send_all(sessions)
    _ask(client, reference)
    [first] = _send_all(sessions)
    _ask(client, reference)
    [second] = _send_all(sessions)
    status, text = _enter(client, first)
    if first != second:  # one in a million they are the same
        assert status == 422 and WRONG in text
    assert _enter(client, second)[0] == 302
    client.post("/track/finish")
    _ask(client, reference)
    _send_all(sessions)
    status, text = _enter(client, second)
    assert status == 422 and WRONG in text


def test_a_code_expires_after_15_minutes(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """With the clock pinned: at 14 minutes the code works; a code 16 minutes old does not."""
    start = datetime(2026, 11, 10, 10, 0, tzinfo=UK_TIME)
    with time_machine.travel(start, tick=False):
        reference = _acknowledged(client, sessions)
        _ask(client, reference)
        [code] = _send_all(sessions)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        status, text = _enter(client, code)
        assert status == 422 and WRONG in text
        _ask(client, reference)
        [fresh] = _send_all(sessions)
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert _enter(client, fresh)[0] == 302
        assert client.get("/track/case").status_code == 200


def test_wrong_codes_and_unknown_references_look_the_same_and_leak_nothing(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """An unknown reference gets the same pages as a known one (no code is sent); a wrong code,
    another case's code, and any code for an unknown reference get the same refusal; five wrong
    codes burn the right one."""
    reference = _acknowledged(client, sessions)
    other = _acknowledged(client, sessions)
    _send_all(sessions)
    client = app.test_client()  # a visitor who never signed in anything
    _ask(client, other)
    [other_code] = _send_all(sessions)

    unknown = re.sub(r"\d+$", "99999", reference)
    assert _ask(client, unknown) == 302
    unknown_page = client.get("/track/code").text
    assert _send_all(sessions) == []
    assert _enter(client, other_code)[0] == 422
    refusal_unknown = _enter(client, "123456")[1]

    assert _ask(client, reference) == 302
    known_page = client.get("/track/code").text
    assert _plain(known_page, reference) == _plain(unknown_page, unknown)
    [code] = _send_all(sessions)
    status, refusal_known = _enter(client, other_code)  # the other case's code
    assert status == 422 and WRONG in refusal_known
    assert _plain(refusal_known, reference) == _plain(refusal_unknown, unknown)
    for personal in PERSONAL:
        assert personal not in known_page and personal not in refusal_known

    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert _enter(client, wrong)[0] == 422  # five wrong in all, with the one above
    assert _enter(client, code)[0] == 422  # burned


def test_codes_are_rate_limited_per_reference_and_per_client_address(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Three codes an hour per reference, from any address; twenty requests an hour per
    address, for any references, known or not. Refusals say how long to wait."""
    reference = _acknowledged(client, sessions)
    for n in range(3):
        assert _ask(client, reference, f"203.0.113.{n}") == 302
    refused = client.post(
        "/track", data={"reference": reference}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert refused.status_code == 429 and "Try again in" in refused.text
    with sessions() as session:
        codes = session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "code"))
        assert len(list(codes)) == 3

    for n in range(20):
        assert _ask(client, f"CT-2026-{n:05d}", "192.0.2.1") == 302
    assert _ask(client, "CT-2026-77777", "192.0.2.1") == 429
    assert _ask(client, "CT-2026-77777", "192.0.2.2") == 302


@pytest.mark.parametrize("reference", ["", "   "])
def test_an_empty_reference_is_asked_for_again(client: FlaskClient, reference: str) -> None:
    """No reference typed: the page says what to enter, 422, nothing sent."""
    response = client.post("/track", data={"reference": reference})
    assert response.status_code == 422 and "Enter your reference" in response.text
