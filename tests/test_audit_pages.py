"""R21, R22: the auditor's pages step through a case as it was, log each view, and are refused to others."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import MET, REVIEW, run_case
from tests.scenario import CaseDriver
from trigger_workflow.samples import ANSWERS
from trigger_workflow.store.models import Case, CaseView

CLOSED = [*MET, *REVIEW, ("record_appeal", ANSWERS["record_appeal"], None)]


@pytest.fixture
def reference(app: object, sessions: sessionmaker[Session]) -> str:
    """A case taken through the review and closed without appeal (11 events)."""
    with sessions() as session:
        return run_case(session, CLOSED)


def _as(client: FlaskClient, sessions: sessionmaker[Session], username: str) -> None:
    CaseDriver(client, sessions).act_as(username)


def _marked(html: str, element_id: str) -> str | None:
    """Return 'completed' or 'waiting' for a diagram element on the page, or None."""
    found = re.search(
        rf'<g class="bpmn-element(?: bpmn-(\w+))?" data-element-id="{element_id}"', html
    )
    assert found, f"{element_id} not drawn"
    return found.group(1)


def _views(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [
            (v.username, v.role, v.what)
            for v in session.scalars(select(CaseView).order_by(CaseView.id))
        ]


def test_r21_auditor_steps_through_a_case_as_it_was(
    client: FlaskClient, sessions: sessionmaker[Session], reference: str
) -> None:
    """At the threshold decision the diagrams show what was done and what waited; who, when, what was sent."""
    _as(client, sessions, "ada")
    page = client.get(f"/audit/cases/{reference}?event=5")
    assert page.status_code == 200
    html = page.text
    assert "Event 5: Decide threshold" in html and "By <strong>carol</strong>" in html
    assert 'id="timeline"' in html and html.count("<li>") >= 11
    assert "Intact" in html and "Matches" in html
    # The main diagram: threshold decided, the review waiting; the stage diagrams beside it.
    assert _marked(html, "call_threshold_decision") == "completed"
    assert _marked(html, "call_case_review") == "waiting"
    assert _marked(html, "call_outcome_notice") is None
    assert 'id="diagram-threshold_decision"' in html and 'id="diagram-case_review"' in html
    assert _marked(html, "decide_threshold") == "completed"
    assert _marked(html, "choose_agencies") == "waiting"
    reasons = ANSWERS["decide_threshold"]["threshold_reasons"]
    assert str(escape(reasons)) in html  # what carol submitted
    assert '"threshold_number": 3' in html  # what the task showed her (the decision table's)
    assert "Choose agencies" in re.search(r'id="step-waiting">([^<]*)<', html).group(1)  # type: ignore[union-attr]
    later = client.get(f"/audit/cases/{reference}?event=11").text
    assert _marked(later, "call_appeal") == "completed" and "Nothing." in later
    assert client.get(f"/audit/cases/{reference}?event=99").status_code == 404


def test_r22_auditor_views_are_logged_and_shown(
    client: FlaskClient, sessions: sessionmaker[Session], reference: str
) -> None:
    """Each page and export an auditor opens is logged, and the case page shows the log."""
    _as(client, sessions, "ada")
    client.get(f"/audit/cases/{reference}?event=2")
    client.get(f"/audit/cases/{reference}/history.csv")
    page = client.get(f"/audit/cases/{reference}?event=3").text
    assert _views(sessions) == [
        ("ada", "auditor", "audit timeline, event 2"),
        ("ada", "auditor", "export CSV"),
        ("ada", "auditor", "audit timeline, event 3"),
    ]
    log = page[page.index('id="access-log"') :]
    assert log.count("audit timeline, event") == 2 and "export CSV" in log


@pytest.mark.parametrize(
    "path",
    [
        "/audit/",
        "/audit/cases/{ref}",
        "/audit/cases/{ref}/history.json",
        "/audit/cases/{ref}/history.csv",
        "/audit/cases/{ref}/history.pdf",
        "/audit/figures",
        "/audit/figures.csv",
        "/audit/figures/applications",
    ],
)
def test_r22_audit_pages_are_refused_to_other_roles(
    client: FlaskClient, sessions: sessionmaker[Session], reference: str, path: str
) -> None:
    """Officers who are not auditors get 403 on every audit page, and nothing is logged — but
    the figures (R20), which the coordinator and the OPCC read too (the OPCC not the cases behind
    them: tests/test_authorities_access.py)."""
    allowed = {"/audit/figures": {"carol", "olu"}, "/audit/figures.csv": {"carol", "olu"}}
    allowed["/audit/figures/applications"] = {"carol"}
    for username in {"carol", "pete", "ingrid", "olu", "owen"} - allowed.get(path, set()):
        _as(client, sessions, username)
        response = client.get(path.format(ref=reference))
        assert response.status_code == 403, username
        assert "for auditors" in response.text
    assert _views(sessions) == []


def test_audit_pages_ask_who_you_are_first(client: FlaskClient, reference: str) -> None:
    """Without signing in, the audit pages send you to sign in, and back to the page after."""
    response = client.get(f"/audit/cases/{reference}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/audit/cases/{reference}"


def test_r21_exports_hold_the_full_history(
    client: FlaskClient, sessions: sessionmaker[Session], reference: str
) -> None:
    """JSON and CSV carry every event with its data and hashes; the PDF is a real PDF."""
    _as(client, sessions, "ada")
    exported = client.get(f"/audit/cases/{reference}/history.json")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    assert f'filename="{reference}-history.json"' in exported.headers["Content-Disposition"]
    document = json.loads(exported.text)
    assert document["case"]["reference"] == reference and document["chain_intact"] is True
    assert document["replay_matches"] is True
    assert [e["seq"] for e in document["events"]] == list(range(1, 12))
    decision = document["events"][4]
    assert (
        decision["task_spec"] == "decide_threshold"
        and decision["data"] == ANSWERS["decide_threshold"]
    )
    assert decision["prev_hash"] == document["events"][3]["hash"]
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/audit/cases/{reference}/history.csv").text))
    )
    assert len(rows) == 11 and rows[4]["actor"] == "carol"
    assert json.loads(rows[4]["data"]) == ANSWERS["decide_threshold"]
    assert rows[10]["hash"] == document["case"]["last_event_hash"]
    printable = client.get(f"/audit/cases/{reference}/history.pdf")
    assert printable.mimetype == "application/pdf" and printable.data.startswith(b"%PDF")
    assert len(printable.data) > 5000


def test_r21_a_tampered_case_says_so_on_its_page(
    client: FlaskClient, sessions: sessionmaker[Session], reference: str
) -> None:
    """A history edited in the database shows as broken, and the replay as diverging."""
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        session.execute(
            text("UPDATE event SET data = :d WHERE case_id = :c AND seq = 5"),
            {
                "d": json.dumps({"threshold_outcome": "not_met", "threshold_reasons": "x"}),
                "c": case_id,
            },
        )
        session.commit()
    _as(client, sessions, "ada")
    html = client.get(f"/audit/cases/{reference}?event=5").text
    assert "Broken" in html and "event 5 was altered" in html
    assert "Diverges" in html and "at event 5" in html


def test_auditor_index_lists_cases(
    client: FlaskClient, sessions: sessionmaker[Session], reference: str
) -> None:
    """The audit home lists cases to open and links the statutory figures; the nav shows Audit."""
    _as(client, sessions, "ada")
    html = client.get("/audit/").text
    assert reference in html and 'id="figures-link"' in html
    assert ">Audit<" in html
