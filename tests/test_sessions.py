"""Sessions live on the server: a copy of the cookie stops working the moment its session ends,
whether by signing out, disabling, a password reset, a role change, or the idle and age limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests import test_oidc
from tests.scenario import CaseDriver
from tests.test_oidc import StubProvider, authorize, come_back
from trigger_workflow.store.models import OfficerSession, SecurityEvent

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# The single sign-on fixtures (the stub provider on loopback), registered here under their names.
provider, sso_app = test_oidc.provider, test_oidc.sso_app


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Pin the clock (the idle and age limits read it); tests move it forward."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def signed_in(app: Flask, sessions: sessionmaker[Session], username: str) -> FlaskClient:
    """Return a new browser signed in as this officer."""
    browser = app.test_client()
    CaseDriver(browser, sessions).act_as(username)
    return browser


def copy_of(app: Flask, browser: FlaskClient) -> FlaskClient:
    """Return a second browser holding a copy of this browser's session cookie."""
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def is_signed_in(browser: FlaskClient) -> bool:
    """Return whether an officer page opens (rather than sending the browser to sign in)."""
    response = browser.get("/tasks")
    return response.status_code == 200


def test_a_copied_cookie_is_signed_out_when_its_officer_signs_out(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """Copy the cookie, sign out, replay the copy: it is signed out (the session ended on the
    server, not only in the browser that signed out)."""
    carol = signed_in(app, sessions, "carol")
    thief = copy_of(app, carol)
    assert is_signed_in(thief)
    assert carol.post("/sign-out").status_code == 302
    assert not is_signed_in(carol)
    replay = thief.get("/tasks")
    assert replay.status_code == 302 and "/sign-in" in replay.headers["Location"]
    with sessions() as session:
        rows = session.scalars(select(OfficerSession)).all()
    assert [(r.ended_reason, r.ended_at is not None) for r in rows] == [("signed out", True)]


def test_signing_out_ends_the_officers_sessions_on_every_device(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """An officer signed in on two computers signs out on one: both are signed out; another
    officer's session carries on."""
    office, laptop = signed_in(app, sessions, "carol"), signed_in(app, sessions, "carol")
    pete = signed_in(app, sessions, "pete")
    office.post("/sign-out")
    assert not is_signed_in(laptop)
    assert is_signed_in(pete)


def test_disabling_an_officer_signs_out_a_copied_cookie(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """An administrator in another browser disables carol: her session and any copy of its
    cookie are signed out at once."""
    carol = signed_in(app, sessions, "carol")
    thief = copy_of(app, carol)
    adam = signed_in(app, sessions, "adam")
    response = adam.post("/admin/officers/carol/disabled", data={"disabled": "true"})
    assert response.status_code == 302
    assert not is_signed_in(thief)
    assert not is_signed_in(carol)


def test_a_password_reset_signs_out_a_copied_cookie_for_good(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """A password reset from another browser ends the session and its copies; re-enabling or
    anything else later does not bring the old cookie back."""
    carol = signed_in(app, sessions, "carol")
    thief = copy_of(app, carol)
    adam = signed_in(app, sessions, "adam")
    reset = adam.post("/admin/officers/carol/password", data={"password": "carol's new password"})
    assert reset.status_code == 302
    assert not is_signed_in(thief)
    # Carol signs in afresh with the new password; the stolen copy still gets nothing.
    fresh = app.test_client()
    signed = fresh.post("/sign-in", data={"username": "carol", "password": "carol's new password"})
    assert signed.status_code == 302 and is_signed_in(fresh)
    assert not is_signed_in(copy_of(app, carol))


def test_a_role_change_ends_the_officers_sessions(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """Moving pete from police to housing ends his session; changing only his name does not."""
    pete = signed_in(app, sessions, "pete")
    adam = signed_in(app, sessions, "adam")
    renamed = {"display_name": "Peter Police", "role": "partner", "agency": "police"}
    assert adam.post("/admin/officers/pete", data=renamed).status_code == 302
    assert is_signed_in(pete)
    moved = {"display_name": "Peter Police", "role": "partner", "agency": "housing"}
    assert adam.post("/admin/officers/pete", data=moved).status_code == 302
    assert not is_signed_in(pete)


def test_idle_limit_is_kept_on_the_server(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """A session used within 30 minutes carries on; one left 31 minutes ends, and the page
    says so. The idle clock is on the server, so no cookie can reset it."""
    carol = signed_in(app, sessions, "carol")
    clock.shift(timedelta(minutes=29))
    assert is_signed_in(carol)
    clock.shift(timedelta(minutes=29))
    assert is_signed_in(carol)  # 58 minutes after sign-in, 29 after the last use
    thief = copy_of(app, carol)
    clock.shift(timedelta(minutes=31))
    assert "Your session has ended" in carol.get("/tasks", follow_redirects=True).text
    assert not is_signed_in(thief)


def test_age_limit_ends_a_busy_session(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """A session used every 20 minutes still ends 10 hours after sign-in."""
    carol = signed_in(app, sessions, "carol")
    for _ in range(29):  # 9 h 40 min
        clock.shift(timedelta(minutes=20))
        assert is_signed_in(carol)
    clock.shift(timedelta(minutes=21))
    assert not is_signed_in(carol)


def test_cookie_holds_only_a_random_session_id_kept_hashed(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """The cookie names the session by a long random id; the database keeps only its hash,
    so a copy of the database cannot be turned into cookies."""
    carol = signed_in(app, sessions, "carol")
    with carol.session_transaction() as cookie:
        sid = cookie["sid"]
        assert "username" not in cookie
    assert len(sid) >= 40
    with sessions() as session:
        row = session.scalars(select(OfficerSession)).one()
    assert row.id_hash != sid and len(row.id_hash) == 64
    assert row.method == "password"


def test_forged_session_id_is_refused(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """A signed cookie whose session id the server never gave out signs nobody in."""
    browser = app.test_client()
    with browser.session_transaction() as cookie:
        cookie["sid"] = "made-up-session-id"
    assert not is_signed_in(browser)


def test_every_sign_in_and_sign_out_is_in_the_security_log(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """A failure, a success and a sign-out are rows of the security log with the address; so
    is the moment a username is slowed down after repeated failures."""
    browser = app.test_client()
    browser.post("/sign-in", data={"username": "carol", "password": "not the password"})
    CaseDriver(browser, sessions).act_as("carol")
    browser.post("/sign-out")
    for _ in range(5):
        browser.post("/sign-in", data={"username": "nobody", "password": "a guess at it"})
    with sessions() as session:
        logged = session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
    assert [(e.kind, e.subject, e.address) for e in logged] == [
        ("sign_in_failed", "carol", "127.0.0.1"),
        ("signed_in", "carol", "127.0.0.1"),
        ("signed_out", "carol", "127.0.0.1"),
        *[("sign_in_failed", "nobody", "127.0.0.1")] * 5,
        ("sign_in_slowed", "nobody", "127.0.0.1"),
    ]
    assert logged[0].detail.startswith("wrong password")
    assert logged[3].detail.startswith("no such officer")


def test_single_sign_on_starts_a_revocable_session_and_is_logged(
    sso_app: Flask,
    provider: StubProvider,
    sessions: sessionmaker[Session],
) -> None:
    """Signing in through the provider starts a server-side session (signing out ends every
    copy of it); the sign-in and a refused account are in the security log."""
    browser = sso_app.test_client()
    come_back(browser, provider, authorize(browser), sub="1", preferred_username="carol")
    assert is_signed_in(browser)
    thief = copy_of(sso_app, browser)
    come_back(thief, provider, authorize(thief), sub="2", preferred_username="mallory")
    browser.post("/sign-out", headers={"X-CSRFToken": _csrf(browser)})
    assert not is_signed_in(thief)
    with sessions() as session:
        logged = session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
        method = session.scalars(select(OfficerSession.method)).all()
    assert [(e.kind, e.subject) for e in logged] == [
        ("sso_signed_in", "carol"),
        ("sso_refused", "mallory"),
        ("signed_out", "carol"),
    ]
    assert method == ["sso"]


def _csrf(browser: FlaskClient) -> str:
    """Return a CSRF token for a plain client's session (the SSO app's client is not CsrfClient)."""
    page = browser.get("/tasks").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return token.group(1)


def test_the_cookie_is_written_when_the_session_changes_not_on_every_request(
    app: Flask, sessions: sessionmaker[Session], clock: time_machine.Coordinates
) -> None:
    """Signing in writes the cookie; pages after that send none (re-signing it each request
    cost CPU and moved no limit: those are on the server); signing out writes it without the
    session."""
    carol = signed_in(app, sessions, "carol")
    carol.get("/tasks")  # the first form page may add the session's CSRF token: a change
    for _ in range(3):
        clock.shift(timedelta(minutes=5))
        response = carol.get("/tasks")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    signed_out = carol.post("/sign-out")
    assert signed_out.status_code == 302
    assert any(c.startswith("session=") for c in signed_out.headers.getlist("Set-Cookie"))
    with carol.session_transaction() as cookie:
        assert "sid" not in cookie  # the new cookie names no session (only the flash message)
    assert not is_signed_in(carol)
