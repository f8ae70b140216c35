"""Sign-in: passwords checked with argon2, throttled guesses, sessions that end, sign-out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_HASHING
from trigger_workflow.app import create_app
from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.services.accounts import actors, passwords
from trigger_workflow.services.accounts import sign_in as service
from trigger_workflow.services.accounts.throttle import Throttle
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Officer, SecurityEvent, SignInThrottle

WRONG = "Enter a correct username and password."
LOCKED = "too many failed sign-ins"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Pin the clock (waits and limits read it); tests move it forward."""
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def sign_in(client: FlaskClient, username: str, password: str = TEST_PASSWORD, **kw: object):  # type: ignore[no-untyped-def]
    """Post the sign-in form."""
    return client.post("/sign-in", data={"username": username, "password": password}, **kw)


def officer(sessions: sessionmaker[Session], username: str) -> Officer:
    """Return an officer row as stored now."""
    with sessions() as session:
        found = session.scalar(select(Officer).where(Officer.username == username))
        assert found is not None
        session.expunge(found)
        return found


def test_officer_signs_in_and_sees_their_name(client: FlaskClient) -> None:
    """The right password signs the officer in: they go to their tasks, named on the page."""
    response = sign_in(client, "carol")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    page = client.get("/tasks").text
    assert "Signed in as <strong>Carol Coordinator</strong>" in page


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient) -> None:
    """An officer sent to sign in from a page comes back to it afterwards."""
    assert client.get("/cases?x=1").headers["Location"] == "/sign-in?next=/cases?x%3D1"
    response = client.post(
        "/sign-in?next=/cases?x%3D1", data={"username": "carol", "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/cases?x=1"


def test_wrong_password_and_unknown_username_get_the_same_answer(client: FlaskClient) -> None:
    """Neither the message nor the status says whether the username exists; nobody is signed in."""
    wrong = sign_in(client, "carol", "not the password")
    unknown = sign_in(client, "nobody-here", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert WRONG in response.text
        assert 'href="#username"' in response.text  # the error summary points at the field
    assert client.get("/tasks").status_code == 302


def test_username_is_kept_after_a_failed_sign_in(client: FlaskClient) -> None:
    """The username typed is shown again; the password is not."""
    response = sign_in(client, "carol", "not the password")
    assert 'value="carol"' in response.text
    assert "not the password" not in response.text


def test_five_failures_slow_that_username_from_that_address(
    client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    """After 5 wrong passwords from one address even the right one must wait 15 seconds; each
    further failure doubles the wait; the page says how long, without saying whether the
    username exists; other officers sign in as usual."""
    for _ in range(5):
        assert sign_in(client, "carol", "wrong password!").status_code == 401
    slowed = sign_in(client, "carol")
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "15"
    assert LOCKED in slowed.text.lower() and "Wait 15 seconds" in slowed.text
    assert client.get("/tasks").status_code == 302
    clock.shift(timedelta(seconds=15))
    assert sign_in(client, "carol", "wrong password!").status_code == 401
    assert "Wait 30 seconds" in sign_in(client, "carol").text
    for _ in range(5):
        sign_in(client, "ghost", "wrong password!")
    assert "Wait 15 seconds" in sign_in(client, "ghost").text  # the same for no such officer
    assert sign_in(client, "pete").status_code == 302
    clock.shift(timedelta(seconds=30))
    assert sign_in(client, "carol").status_code == 302


def test_an_attacker_cannot_lock_a_named_officer_out(
    app: Flask, clock: time_machine.Coordinates
) -> None:
    """Guessing carol's password from one address slows only that address: carol signs in at
    once from her own."""
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(12):
        assert sign_in(attacker, "carol", "wrong password!").status_code in (401, 429)
    assert sign_in(attacker, "carol").status_code == 429
    carol = app.test_client()
    carol.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(carol, "carol").status_code == 302


def test_failures_older_than_the_window_are_forgotten(
    client: FlaskClient, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """Fifteen minutes after the last failure the count starts again, and rows that no longer
    count are deleted by the next failure, so the table stays small."""
    for _ in range(5):
        sign_in(client, "carol", "wrong password!")
    for _ in range(3):
        sign_in(client, "ghost", "wrong password!")
    assert sign_in(client, "carol").status_code == 429
    clock.shift(timedelta(minutes=16))
    assert sign_in(client, "carol").status_code == 302
    sign_in(client, "pete", "wrong password!")
    with sessions() as session:
        rows = session.scalars(select(SignInThrottle)).all()
    assert sorted((r.scope, r.username, r.failures) for r in rows) == [
        ("address", "", 1),
        ("pair", "pete", 1),
    ]


def test_many_failures_from_one_address_do_not_lock_out_a_real_officer(
    app: Flask, clock: time_machine.Coordinates
) -> None:
    """Twenty failures from one address (a council office behind one address, or someone
    trying many usernames) still let an officer with the right password in from it; a username
    that has already failed from that address is slowed from its first failure."""
    office = app.test_client()
    office.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for number in range(20):
        assert sign_in(office, f"user{number}", "wrong password!").status_code == 401
    assert sign_in(office, "carol").status_code == 302
    office.post("/sign-out")
    assert sign_in(office, "pete", "wrong password!").status_code == 401
    assert sign_in(office, "pete").status_code == 429
    assert sign_in(office, "user3", "another guess").status_code == 429


def test_failures_are_counted_in_the_database_for_every_process(
    app: Flask, settings: Settings, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """Failures are counted in the database, so a second web process (another app on the same
    database, as another gunicorn worker is) sees the failures the first one counted."""
    sign_in(app.test_client(), "Carol", "wrong password!")
    with sessions() as session:
        row = session.scalars(select(SignInThrottle).where(SignInThrottle.scope == "pair")).one()
    assert (row.username, row.address, row.failures) == ("carol", "127.0.0.1", 1)
    for _ in range(4):
        sign_in(app.test_client(), "carol", "wrong password!")
    second = create_app(settings)
    second.test_client_class = type(app.test_client())
    try:
        assert sign_in(second.test_client(), "carol").status_code == 429
    finally:
        second.extensions["trigger_workflow.engine"].dispose()


def test_success_clears_the_failures_of_that_username_from_that_address(
    client: FlaskClient, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """A correct sign-in forgets that username's earlier failures from that address."""
    for _ in range(4):
        sign_in(client, "carol", "wrong password!")
    assert sign_in(client, "carol").status_code == 302
    with sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(SignInThrottle)
            .where(SignInThrottle.username == "carol")
        )
    assert count == 0


@pytest.mark.parametrize("wrong", [True, False], ids=["wrong-password", "right-password"])
def test_concurrent_guesses_get_exactly_the_allowed_number_of_checks(
    sessions: sessionmaker[Session], deployed: object, wrong: bool
) -> None:
    """31 sign-ins for one username from one address at the same moment (31 threads, each
    with its own database connection, on SQLite and on PostgreSQL): exactly 5 are checked,
    26 are told to wait. Counting and checking the allowance is one conditional UPDATE."""
    limits = Throttle(hashing=TEST_HASHING)
    start = threading.Barrier(31)
    outcomes: list[str] = []

    def attempt() -> None:
        password = "wrong password!" if wrong else "not yet"
        start.wait()
        with sessions() as session:
            try:
                service.sign_in(session, service.SignIn("carol", password, "203.0.113.9"), limits)
                outcomes.append("signed in")
            except service.SignInRefused:
                outcomes.append("checked")
            except service.TooManyFailures:
                outcomes.append("wait")

    threads = [threading.Thread(target=attempt) for _ in range(31)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("checked") == 5
    assert outcomes.count("wait") == 26
    with sessions() as session:
        row = session.scalars(select(SignInThrottle).where(SignInThrottle.scope == "pair")).one()
        failed = session.scalars(
            select(SecurityEvent).where(SecurityEvent.kind == "sign_in_failed")
        ).all()
    assert row.failures == 5 and len(failed) == 5


def test_administrator_lets_a_slowed_officer_in_again(
    app: Flask,
    client: FlaskClient,
    sessions: sessionmaker[Session],
    clock: time_machine.Coordinates,
) -> None:
    """An administrator sees carol's recent failures and clears them: she signs in at once."""
    for _ in range(5):
        sign_in(client, "carol", "wrong password!")
    assert sign_in(client, "carol").status_code == 429
    adam = app.test_client()
    adam.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    sign_in(adam, "adam")
    page = adam.get("/admin/officers/carol").text
    assert "5 failed sign-ins lately from 1 address" in page
    assert adam.post("/admin/officers/carol/unlock").status_code == 302
    assert "None lately" in adam.get("/admin/officers/carol").text
    assert sign_in(client, "carol").status_code == 302
    with sessions() as session:
        kinds = session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)).all()
    assert kinds.count("sign_in_slowed") == 1 and "sign_in_unlocked" in kinds


def test_password_hash_is_upgraded_when_the_parameters_change(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A hash made with other argon2 parameters is replaced at the next sign-in."""
    old = passwords.Hashing(time_cost=2, memory_kib=32)
    with sessions() as session:
        actors.set_password_hash(
            session, "carol", passwords.hash_password(TEST_PASSWORD, old), by="adam"
        )
    assert passwords.needs_rehash(officer(sessions, "carol").password_hash or "", TEST_HASHING)
    assert sign_in(client, "carol").status_code == 302
    stored = officer(sessions, "carol").password_hash or ""
    assert stored.startswith("$argon2id$")
    assert not passwords.needs_rehash(stored, TEST_HASHING)
    assert passwords.verify(stored, TEST_PASSWORD, TEST_HASHING)


def test_officer_without_a_password_cannot_sign_in(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """An account with no password (e.g. made for single sign-on) refuses every password."""
    with sessions() as session:
        actors.add_officer(session, "sso", "Single Sign-On", "coordinator", "council")
    assert sign_in(client, "sso", "").status_code == 401
    assert sign_in(client, "sso", "anything at all").status_code == 401


def test_disabled_officer_cannot_sign_in_and_their_session_ends(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Disabling an officer ends the session they have and refuses the next sign-in."""
    sign_in(client, "carol")
    assert client.get("/tasks").status_code == 200
    with sessions() as session:
        actors.set_disabled(session, "carol", True, by="adam")
    assert client.get("/tasks").status_code == 302
    response = sign_in(client, "carol")
    assert response.status_code == 401 and WRONG in response.text


def test_new_password_ends_existing_sessions(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """After a password reset the old session is signed out; the new password works."""
    sign_in(client, "carol")
    with sessions() as session:
        new_hash = passwords.hash_password("a brand new password", TEST_HASHING)
        actors.set_password_hash(session, "carol", new_hash, by="adam")
    assert client.get("/tasks").status_code == 302
    assert sign_in(client, "carol").status_code == 401
    assert sign_in(client, "carol", "a brand new password").status_code == 302


def test_signing_in_starts_a_new_session(client: FlaskClient) -> None:
    """Nothing from the session before sign-in survives it (session fixation): a value planted
    before, and the CSRF token, are gone; the session gets a new random id."""
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["csrf_token"] = "old token"
    sign_in(client, "carol")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "old token"
        first = session["sid"]
    client.post("/sign-out")
    sign_in(client, "carol")
    with client.session_transaction() as session:
        assert session["sid"] != first


def test_session_cookie_lasts_no_longer_than_the_absolute_limit(client: FlaskClient) -> None:
    """The session cookie is HttpOnly, SameSite=Lax, and expires with the absolute limit."""
    response = sign_in(client, "carol")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_sign_out_ends_the_session(client: FlaskClient) -> None:
    """After signing out, officer pages ask for sign-in again."""
    sign_in(client, "carol")
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert client.get("/tasks").status_code == 302
    assert "You have signed out" in client.get("/").text
