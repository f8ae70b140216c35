"""Erasure on request (issue 13): one person's data goes, everyone else's stays; only the
administrator of the case's authority may erase; the command line and the worker erase too."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.authorities_helpers import two_authorities
from tests.retention_helpers import (
    APPLICANT_VALUES,
    CASE_VALUES,
    SEEDED,
    VICTIM_VALUES,
    found_in_database,
    found_in_files,
    seeded_case,
)
from tests.scenario import CaseDriver
from tests.test_rules_deadlines import london
from trigger_workflow.cli import main
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import verify
from trigger_workflow.services.privacy import erasures
from trigger_workflow.services.process_owners import processes
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case, Erasure, OutboxMessage

DAY = london(2026, 12, 15, 10, 0)
RECEIVED = date(2026, 12, 15)


def _case(sessions: sessionmaker[Session], instance: Path, close: bool = True) -> str:
    with time_machine.travel(DAY, tick=False):
        return seeded_case(sessions, instance, RECEIVED, close=close)


def _load(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    return case


@pytest.mark.today("2027-02-01")
def test_erasing_the_victim_leaves_the_applicant_and_the_case(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, tmp_path: Path
) -> None:
    """The victim asks for their data to be erased: their values and their consent form go
    from every table and file; the applicant's and the case's stay, and the chain verifies."""
    instance = tmp_path / "instance"
    reference = _case(sessions, instance)
    with sessions() as session:
        adam = actors.find_officer(session, "adam")
        erasures.erase(
            session, _load(session, reference), {"victim"}, under=erasures.REQUEST,
            reason="Request 2027/14 (UK GDPR article 17)", actor=adam, instance_path=instance,
        )  # fmt: skip
    assert found_in_database(sessions, VICTIM_VALUES) == {}
    assert found_in_files(instance, VICTIM_VALUES) == {}
    assert set(found_in_database(sessions, APPLICANT_VALUES + CASE_VALUES)) == set(
        APPLICANT_VALUES + CASE_VALUES
    )
    with sessions() as session:
        case = _load(session, reference)
        assert case.anonymised_at is None and case.applicant_name == "Morwenna Quillfeather"
        assert verify.verify_cases(session, [reference]).broken == []
        row = session.scalar(select(Erasure))
        assert row is not None and (row.subjects, row.under, row.erased_by) == (
            ["victim"],
            "request",
            "adam",
        )


@pytest.mark.today("2027-02-01")
def test_the_applicant_of_an_open_case_is_erased_only_when_confirmed(
    sessions: sessionmaker[Session], deployed: processes.DeployResult, tmp_path: Path
) -> None:
    """Erasing the applicant of a case still in review is refused without the explicit
    confirmation (nothing changes), and done with it; the schedule never erases an open case."""
    instance = tmp_path / "instance"
    reference = _case(sessions, instance, close=False)
    before = found_in_database(sessions, SEEDED)
    with sessions() as session:
        adam = actors.find_officer(session, "adam")
        for under in (erasures.REQUEST, erasures.SCHEDULE):
            with pytest.raises(erasures.ErasureRefused, match="still open"):
                erasures.erase(
                    session, _load(session, reference), {"applicant"}, under=under,
                    reason="Asked by phone", actor=adam, instance_path=instance,
                )  # fmt: skip
    assert found_in_database(sessions, SEEDED) == before
    with sessions() as session:
        erasures.erase(
            session, _load(session, reference), {"applicant"}, under=erasures.REQUEST,
            reason="Asked by phone", actor=actors.find_officer(session, "adam"),
            instance_path=instance, open_case_confirmed=True,
        )  # fmt: skip
        assert _load(session, reference).status == "open"
    # Nowhere: the officers' free text that names her (the threshold's reasons) is sealed whole
    # with her own values, though the case's other free text stays.
    assert found_in_database(sessions, APPLICANT_VALUES) == {}
    assert "event.data" in found_in_database(sessions, ["Quiet evenings on Larkspur Close"]).get(
        "Quiet evenings on Larkspur Close", []
    )


@pytest.mark.today("2027-02-01")
def test_the_administrator_sees_the_counts_confirms_and_the_case_page_says_so(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The administrator chooses the victim and gives a reason, sees what will be removed,
    confirms; the case page then says whose data was erased, when, by whom and why."""
    reference = _case(sessions, settings.instance_path)
    admin = CaseDriver(client, sessions)
    admin.act_as("adam")
    page = client.get(f"/cases/{reference}/erase")
    assert page.status_code == 200
    assert 'value="victim"' in page.text and 'value="applicant"' in page.text
    refused = client.post(f"/cases/{reference}/erase", data={"subjects": ["victim"]})
    assert refused.status_code == 422 and "Give the reason" in refused.text
    reason = "Request 2027/14 (UK GDPR article 17)"
    preview = client.post(
        f"/cases/{reference}/erase", data={"subjects": ["victim"], "reason": reason}
    )
    assert preview.status_code == 200 and 'id="erasure-counts"' in preview.text
    assert re.search(r"Documents\s*</dt>\s*<dd[^>]*>\s*1\s*<", preview.text)
    assert set(found_in_database(sessions, VICTIM_VALUES)) == set(VICTIM_VALUES)  # not yet
    done = client.post(
        f"/cases/{reference}/erase",
        data={"subjects": ["victim"], "reason": reason, "action": "erase"},
    )
    assert done.status_code == 302
    assert found_in_database(sessions, VICTIM_VALUES) == {}
    admin.act_as("carol")
    case_page = client.get(f"/cases/{reference}").text
    assert "Personal data of the victim (applied for by someone else) erased on" in case_page
    assert f"by adam ({reason})" in case_page
    assert "Morwenna Quillfeather" in case_page  # the applicant's data stays


@pytest.mark.today("2027-02-01")
def test_the_page_refuses_other_roles_and_another_councils_administrator(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The coordinator is refused (403); Chesterfield's administrator is told Derby's case is
    not there (404), and nothing is erased."""
    two_authorities(sessions)
    reference = _case(sessions, settings.instance_path)
    visitor = CaseDriver(client, sessions)
    data = {"subjects": ["victim"], "reason": "x", "action": "erase"}
    for username, status in (("carol", 403), ("adele", 404)):
        visitor.act_as(username)
        assert client.get(f"/cases/{reference}/erase").status_code == status
        assert client.post(f"/cases/{reference}/erase", data=data).status_code == status
    with sessions() as session:
        assert session.scalars(select(Erasure)).all() == []
    assert set(found_in_database(sessions, VICTIM_VALUES)) == set(VICTIM_VALUES)


def test_the_command_line_erases_on_request_and_runs_the_schedule(
    sessions: sessionmaker[Session],
    deployed: processes.DeployResult,
    database_url: str,
    tmp_path: Path,
) -> None:
    """`cases erase` erases one person's data; `retention run --dry-run --today` lists the due
    case and changes nothing; `retention run --today` erases it."""
    instance = tmp_path / "instance"
    reference = _case(sessions, instance)
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(instance),
    }

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    with time_machine.travel(london(2027, 2, 1, 10, 0), tick=False):
        said = run("cases", "erase", reference, "--subject", "victim", "--reason", "Req 7")
    assert f"Erased victim from {reference}" in said
    assert found_in_database(sessions, VICTIM_VALUES) == {}
    listed = run("retention", "run", "--dry-run", "--today", "2032-12-15")
    assert f"{reference}  closed 2026-12-15  due 2032-12-15  would erase" in listed
    assert set(found_in_database(sessions, APPLICANT_VALUES)) == set(APPLICANT_VALUES)
    assert "0 case(s) would erase on 2032-12-14" in run(
        "retention", "run", "--dry-run", "--today", "2032-12-14"
    )
    with time_machine.travel(london(2032, 12, 15, 3, 0), tick=False):
        assert "1 case(s) erased on 2032-12-15" in run("retention", "run", "--today", "2032-12-15")
    assert found_in_database(sessions, SEEDED) == {}


def test_the_worker_runs_the_retention_schedule(
    sessions: sessionmaker[Session],
    deployed: processes.DeployResult,
    database_url: str,
    tmp_path: Path,
) -> None:
    """One pass of the worker on the case's due day erases it (and the letters it remade need
    no PDF making: nothing is left queued)."""
    instance = tmp_path / "instance"
    reference = _case(sessions, instance)
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(instance),
        "TRIGGER_WORKFLOW_SMTP_PORT": "1",  # nothing to email: the letters were posted
    }
    with time_machine.travel(london(2032, 12, 15, 3, 0), tick=False):
        result = CliRunner().invoke(main, ["worker", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Retention schedule: 1 case(s) erased, 0 failed." in result.output
    assert found_in_database(sessions, SEEDED) == {}
    with sessions() as session:
        assert _load(session, reference).anonymised_at is not None
        assert session.scalars(select(OutboxMessage.status)).all()  # kept, redacted
