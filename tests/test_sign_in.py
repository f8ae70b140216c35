"""Sign-in: passwords checked with argon2, throttled guesses, sessions that end, sign-out."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_HASHING
from trigger_workflow.app import create_app
from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.services.accounts import actors, passwords
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Officer, SignInFailure, utcnow

WRONG = "Enter a correct username and password."
LOCKED = "too many failed sign-ins"


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


def test_five_failures_lock_the_username_but_not_others(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """After 5 wrong passwords even the right one is refused for 15 minutes; other officers
    can still sign in; the page says what happened without saying the username exists."""
    for _ in range(5):
        assert sign_in(client, "carol", "wrong password!").status_code == 401
    locked = sign_in(client, "carol")
    assert locked.status_code == 429
    assert LOCKED in locked.text.lower() and "Wait 15 minutes" in locked.text
    assert client.get("/tasks").status_code == 302
    for _ in range(5):
        sign_in(client, "ghost", "wrong password!")
    assert LOCKED in sign_in(client, "ghost").text.lower()  # same answer for no such officer
    assert sign_in(client, "pete").status_code == 302


def test_lock_out_ends_when_the_failures_are_older_than_the_window(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Failures older than the lock-out window no longer count."""
    for _ in range(5):
        sign_in(client, "carol", "wrong password!")
    assert sign_in(client, "carol").status_code == 429
    with sessions() as session:
        session.execute(update(SignInFailure).values(failed_at=utcnow() - timedelta(minutes=16)))
        session.commit()
    assert sign_in(client, "carol").status_code == 302


def test_failures_older_than_the_window_are_cleared_away(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Each new failure deletes the ones that no longer count, so the table stays small."""
    for _ in range(3):
        sign_in(client, "ghost", "wrong password!")
    with sessions() as session:
        session.execute(update(SignInFailure).values(failed_at=utcnow() - timedelta(minutes=16)))
        session.commit()
    sign_in(client, "carol", "wrong password!")
    with sessions() as session:
        rows = session.scalars(select(SignInFailure)).all()
    assert [r.username for r in rows] == ["carol"]


def test_many_failures_from_one_address_lock_that_address_only(app: Flask) -> None:
    """Twenty failures from one address across usernames lock that address, not others."""
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for number in range(20):
        assert sign_in(guesser, f"user{number}", "wrong password!").status_code == 401
    assert sign_in(guesser, "carol").status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(other, "carol").status_code == 302


def test_failures_are_counted_in_the_database_for_every_process(
    app: Flask, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """Failures are rows in the database, so a second web process (another app on the same
    database, as another gunicorn worker is) counts the failures the first one saw."""
    sign_in(app.test_client(), "Carol", "wrong password!")
    with sessions() as session:
        rows = session.scalars(select(SignInFailure)).all()
    assert [(r.username, r.address) for r in rows] == [("carol", "127.0.0.1")]
    for _ in range(4):
        sign_in(app.test_client(), "carol", "wrong password!")
    second = create_app(settings)
    second.test_client_class = type(app.test_client())
    try:
        assert sign_in(second.test_client(), "carol").status_code == 429
    finally:
        second.extensions["trigger_workflow.engine"].dispose()


def test_success_clears_the_username_failures(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A correct sign-in forgets that username's earlier failures."""
    for _ in range(4):
        sign_in(client, "carol", "wrong password!")
    assert sign_in(client, "carol").status_code == 302
    with sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(SignInFailure).where(SignInFailure.username == "carol")
        )
    assert count == 0


def test_password_hash_is_upgraded_when_the_parameters_change(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A hash made with other argon2 parameters is replaced at the next sign-in."""
    old = passwords.Hashing(time_cost=2, memory_kib=32)
    with sessions() as session:
        actors.set_password_hash(session, "carol", passwords.hash_password(TEST_PASSWORD, old))
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
        actors.set_disabled(session, "carol", True)
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
        actors.set_password_hash(session, "carol", new_hash)
    assert client.get("/tasks").status_code == 302
    assert sign_in(client, "carol").status_code == 401
    assert sign_in(client, "carol", "a brand new password").status_code == 302


def test_idle_session_ends(client: FlaskClient) -> None:
    """A session unused for longer than the idle limit (30 minutes) ends; the page says so."""
    sign_in(client, "carol")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/tasks", follow_redirects=True)
    assert "Your session has ended" in response.text
    assert "Signed in as" not in response.text


def test_session_ends_after_its_absolute_limit_even_when_busy(client: FlaskClient) -> None:
    """A session older than the absolute limit (10 hours) ends however recently it was used."""
    sign_in(client, "carol")
    with client.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - 10 * 3600 - 60
    assert client.get("/tasks").status_code == 302


def test_active_session_stays_signed_in(client: FlaskClient) -> None:
    """Within the limits, each request keeps the session going."""
    sign_in(client, "carol")
    earlier = int(time.time()) - 29 * 60
    with client.session_transaction() as session:
        session["seen_at"] = earlier
    assert client.get("/tasks").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] > earlier  # the idle clock started again


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
