"""The subject access page and command (issue 13, item 4): search, confirm, download; other roles
are refused (every route's roles: tests/test_access_matrix.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.scenario import CaseDriver
from tests.subject_access_helpers import OTHERS, SAM, pdf_text, sams_cases
from trigger_workflow.cli import main
from trigger_workflow.services.accounts import security_log
from trigger_workflow.store.models import SecurityEvent

pytestmark = pytest.mark.today("2026-11-23")
PAGE = "/data-protection/subject-access"


def _seed(sessions: sessionmaker[Session]) -> tuple[str, str]:
    with sessions() as session:
        sams = sams_cases(session)
    return sams.as_applicant, sams.as_victim


def test_auditor_searches_confirms_and_downloads_json_and_pdf(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The auditor finds Sam on both cases (as whom, matched on what), keeps both ticked and
    downloads the JSON and the PDF: Sam's data, nobody else's, never cached."""
    applicant_case, victim_case = _seed(sessions)
    CaseDriver(client, sessions).act_as("ada")
    form = client.get(PAGE)
    assert form.status_code == 200 and 'method="post"' in form.text
    assert re.search(r"<a[^>]*href=\"/data-protection/subject-access\"[^>]*aria-current", form.text)
    found = client.post(PAGE, data={"name": "Sam Requester", "postcode": "de1 2ab"})
    assert found.status_code == 200
    boxes = re.findall(r'name="chosen" type="checkbox" value="([^"]+)"', found.text)
    assert boxes == [f"{applicant_case}:applicant", f"{victim_case}:victim"]
    assert "Matched on name, postcode" in found.text
    fields = [("name", "Sam Requester"), ("postcode", "de1 2ab")] + [("chosen", b) for b in boxes]
    download = client.post(f"{PAGE}/export", data=MultiDict([*fields, ("format", "json")]))
    assert download.status_code == 200, download.text[:500]
    assert download.mimetype == "application/json"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "no-store"
    document = json.loads(download.text)
    assert [c["reference"] for c in document["cases"]] == [applicant_case, victim_case]
    assert SAM["email"] in download.text
    printed = client.post(f"{PAGE}/export", data=MultiDict([*fields, ("format", "pdf")]))
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = pdf_text(printed.data)
    assert SAM["name"] in text
    assert [v for v in OTHERS if v in text or v in download.text] == []


def test_an_export_with_no_case_chosen_is_refused_beside_the_matches(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Unticking every case and downloading says to choose one; the matches stay listed and
    nothing is logged as exported."""
    _seed(sessions)
    CaseDriver(client, sessions).act_as("adam")
    refused = client.post(f"{PAGE}/export", data={"name": "Sam Requester", "format": "json"})
    assert refused.status_code == 422
    assert "Choose at least one case to export" in refused.text
    assert len(re.findall(r'name="chosen" type="checkbox"', refused.text)) == 2
    with sessions() as session:
        kinds = set(session.scalars(select(SecurityEvent.kind)))
    assert security_log.SUBJECT_ACCESS_EXPORTED not in kinds


def test_the_command_line_searches_and_exports_as_a_named_officer(
    database_url: str, sessions: sessionmaker[Session], deployed: object, tmp_path: Path
) -> None:
    """`subject-access search` lists the matches; `export --match ... --format json|pdf --out`
    writes them to a file only its owner may read, logged under the officer named."""
    applicant_case, victim_case = _seed(sessions)
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}

    def run(*args: str) -> str:
        result = runner.invoke(main, ["subject-access", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    listed = run("search", "--as", "ada", "--email", "SAM.REQUESTER@example.org")
    assert f"{applicant_case}:applicant" in listed and f"{victim_case}:victim" in listed
    out = tmp_path / "sam.json"
    person = ["--as", "ada", "--email", SAM["email"], "--match", f"{victim_case}:victim"]
    assert "Wrote JSON of 1 case(s)" in run("export", *person, "--out", str(out))
    assert json.loads(out.read_text())["cases"][0]["as"] == "victim"
    assert out.stat().st_mode & 0o777 == 0o600
    pdf = tmp_path / "sam.pdf"
    run("export", *person, "--format", "pdf", "--out", str(pdf))
    assert "sam requester" in " ".join(pdf_text(pdf.read_bytes()).split()).casefold()
    refused = runner.invoke(
        main, ["subject-access", "search", "--as", "carol", "--name", "Sam"], env=env
    )
    assert refused.exit_code != 0 and "auditors and administrators" in refused.output
    with sessions() as session:
        logged = list(
            session.scalars(select(SecurityEvent.kind).where(SecurityEvent.actor == "ada"))
        )
    assert logged == [
        security_log.SUBJECT_ACCESS_SEARCHED,
        security_log.SUBJECT_ACCESS_EXPORTED,
        security_log.SUBJECT_ACCESS_EXPORTED,
    ]
