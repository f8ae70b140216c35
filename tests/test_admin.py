"""Administrators add officers, change roles and agencies, reset passwords and disable accounts,
on the web page and from the command line."""

from __future__ import annotations

import getpass
import logging

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_HASHING
from tests.scenario import CaseDriver
from trigger_workflow.cli import main
from trigger_workflow.services.accounts import passwords
from trigger_workflow.store.models import AppendOnlyError, Officer, SecurityEvent

NEW = {
    "username": "dora",
    "display_name": "Dora Housing",
    "role": "partner",
    "agency": "housing",
    "password": "dora's first password",
}


def stored(sessions: sessionmaker[Session], username: str) -> Officer | None:
    """Return the officer row as stored now, or None."""
    with sessions() as session:
        found = session.scalar(select(Officer).where(Officer.username == username))
        if found is not None:
            session.expunge(found)
        return found


def as_admin(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    """Sign in as the demo administrator."""
    driver = CaseDriver(client, sessions)
    driver.act_as("adam")
    return driver


def test_administrator_adds_an_officer_who_can_then_sign_in(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A new partner officer added on the page has an argon2 hash and signs in with it."""
    as_admin(client, sessions)
    response = client.post("/admin/officers", data=NEW)
    assert response.status_code == 302
    dora = stored(sessions, "dora")
    assert dora is not None and (dora.role, dora.agency) == ("partner", "housing")
    assert (dora.password_hash or "").startswith("$argon2id$")
    assert "dora" in client.get("/admin/officers").text
    client.post("/sign-out")
    signed_in = client.post("/sign-in", data={"username": "dora", "password": NEW["password"]})
    assert signed_in.status_code == 302


def test_bad_new_officer_is_refused_with_the_answers_kept(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A partner without an agency, a short password or a taken username: 422, the reason
    shown, what was typed kept, nobody added."""
    as_admin(client, sessions)
    for changed, reason in (
        ({"agency": ""}, "needs an agency"),
        ({"password": "short"}, "at least 12 characters"),
        ({"username": "carol"}, "already an officer"),
        ({"username": "bad name!"}, "A username is"),
    ):
        response = client.post("/admin/officers", data={**NEW, **changed})
        assert response.status_code == 422, changed
        assert reason in response.text
        assert 'value="Dora Housing"' in response.text
    assert stored(sessions, "dora") is None


def test_administrator_changes_role_and_the_officers_session_ends(
    app, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    """Moving pete from police to housing takes effect at once: his old session ends."""
    pete = app.test_client()
    CaseDriver(pete, sessions).act_as("pete")
    as_admin(client, sessions)
    response = client.post(
        "/admin/officers/pete",
        data={"display_name": "Pete Police", "role": "partner", "agency": "housing"},
    )
    assert response.status_code == 302
    officer = stored(sessions, "pete")
    assert officer is not None and officer.agency == "housing"
    assert pete.get("/tasks").status_code == 302


def test_administrator_resets_a_password(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The new password works; a short one is refused and the old hash kept."""
    as_admin(client, sessions)
    before = stored(sessions, "carol")
    assert client.post("/admin/officers/carol/password", data={"password": "x"}).status_code == 422
    assert stored(sessions, "carol").password_hash == before.password_hash  # type: ignore[union-attr]
    response = client.post("/admin/officers/carol/password", data={"password": "carol's new one!"})
    assert response.status_code == 302
    assert passwords.verify(
        stored(sessions, "carol").password_hash,  # type: ignore[union-attr]
        "carol's new one!",
        TEST_HASHING,
    )


def test_administrator_disables_and_enables_an_officer(
    client: FlaskClient, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """Disabled officers are marked on the list, and the log says who disabled them; an
    administrator cannot disable themselves."""
    as_admin(client, sessions)
    with caplog.at_level(logging.INFO):
        response = client.post("/admin/officers/olu/disabled", data={"disabled": "true"})
    assert response.status_code == 302
    assert "Officer disabled: olu (by adam)" in caplog.text
    assert stored(sessions, "olu").disabled  # type: ignore[union-attr]
    assert "Disabled" in client.get("/admin/officers").text
    client.post("/admin/officers/olu/disabled", data={"disabled": "false"})
    assert not stored(sessions, "olu").disabled  # type: ignore[union-attr]
    refused = client.post("/admin/officers/adam/disabled", data={"disabled": "true"})
    assert refused.status_code == 422 and "your own account" in refused.text


def test_unknown_officer_page_is_404(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    """An administrator asking for an officer who does not exist gets a clear 404."""
    as_admin(client, sessions)
    assert client.get("/admin/officers/nobody").status_code == 404


def test_cli_adds_officer_sets_password_and_disables(
    database_url: str, sessions: sessionmaker[Session], deployed: object
) -> None:
    """officers add (password from stdin), set-password, disable and disable --enable."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("officers", "add", "fay", "--name", "Fay Admin", "--role", "administrator",
        "--password-stdin", input="fay's password one\n")  # fmt: skip
    first = stored(sessions, "fay")
    assert first is not None and first.role == "administrator"
    assert passwords.verify(first.password_hash, "fay's password one", passwords.Hashing())
    assert "sessions have ended" in run(
        "officers", "set-password", "fay", "--password-stdin", input="fay's password two\n"
    )
    second = stored(sessions, "fay")
    assert second is not None
    assert passwords.verify(second.password_hash, "fay's password two", passwords.Hashing())
    run("officers", "disable", "fay")
    assert stored(sessions, "fay").disabled  # type: ignore[union-attr]
    run("officers", "disable", "fay", "--enable")
    assert not stored(sessions, "fay").disabled  # type: ignore[union-attr]
    with sessions() as session:
        logged = session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
    operator = f"command line ({getpass.getuser()})"
    assert [(e.kind, e.actor, e.subject) for e in logged] == [
        ("officer_added", operator, "fay"),
        ("password_reset", operator, "fay"),
        ("officer_disabled", operator, "fay"),
        ("officer_enabled", operator, "fay"),
    ]


def test_cli_prompts_twice_for_the_password_and_refuses_a_short_one(database_url: str) -> None:
    """Without --password-stdin the password is asked for twice, hidden; a short one fails."""
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    args = ["officers", "add", "gil", "--name", "Gil", "--role", "auditor"]
    result = CliRunner().invoke(main, args, env=env, input="short\nshort\n")
    assert result.exit_code == 1
    assert "Repeat for confirmation" in result.output
    assert "at least 12 characters" in result.output


def test_cli_set_password_for_unknown_officer_fails_clearly(database_url: str) -> None:
    """set-password for a username that does not exist says so, without asking for a password."""
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["officers", "set-password", "nobody"], env=env)
    assert result.exit_code == 1
    assert "There is no officer 'nobody'" in result.output


def test_every_administrators_change_is_in_the_security_log(
    app, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    """Adding an officer, changing a name, a role, a password, disabling and enabling are each
    a row of the security log (who, whom, from where, what), which nobody can change; the
    auditor reads them on /audit/security-log, newest first."""
    as_admin(client, sessions)
    client.post("/admin/officers", data=NEW)
    client.post(
        "/admin/officers/dora",
        data={"display_name": "Dora Homes", "role": "partner", "agency": "housing"},
    )
    client.post(
        "/admin/officers/dora",
        data={"display_name": "Dora Homes", "role": "coordinator", "agency": "council"},
    )
    client.post("/admin/officers/dora/password", data={"password": "dora's second password"})
    client.post("/admin/officers/dora/disabled", data={"disabled": "true"})
    client.post("/admin/officers/dora/disabled", data={"disabled": "false"})
    with sessions() as session:
        logged = session.scalars(
            select(SecurityEvent).where(SecurityEvent.subject == "dora").order_by(SecurityEvent.id)
        ).all()
        assert [(e.kind, e.actor, e.address, e.detail) for e in logged] == [
            ("officer_added", "adam", "127.0.0.1", "partner (housing)"),
            ("details_changed", "adam", "127.0.0.1", "Dora Housing to Dora Homes"),
            ("role_changed", "adam", "127.0.0.1", "partner (housing) to coordinator (council)"),
            ("password_reset", "adam", "127.0.0.1", "0 session(s) ended"),
            ("officer_disabled", "adam", "127.0.0.1", "0 session(s) ended"),
            ("officer_enabled", "adam", "127.0.0.1", ""),
        ]
        logged[0].detail = "nothing happened"
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
    auditor = app.test_client()
    CaseDriver(auditor, sessions).act_as("ada")
    page = auditor.get("/audit/security-log?account=dora").text
    rows = page.split('<tbody class="govuk-table__body">')[1]
    assert rows.index("Officer enabled") < rows.index("Officer added")
    assert "partner (housing) to coordinator (council)" in rows
