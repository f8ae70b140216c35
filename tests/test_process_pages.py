"""Process owners' pages: versions, diagrams, editing with validation, deploy, rollback, moves."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.process_variants import acknowledgement_removed, relabelled
from tests.scenario import CaseDriver
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Case, ProcessVersion

ACK = "acknowledgement.bpmn"
EDIT = f"/processes/1/edit/{ACK}"


@pytest.fixture
def owner(client: FlaskClient, sessions: sessionmaker[Session]) -> FlaskClient:
    """Return the client acting as owen, the process owner."""
    CaseDriver(client, sessions).act_as("owen")
    return client


def _version_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(ProcessVersion)).all())


@pytest.mark.parametrize("username", ["carol", "pete", "ingrid", "olu", "ada"])
def test_only_the_process_owner_role_sees_edits_deploys_or_moves(
    client: FlaskClient, sessions: sessionmaker[Session], username: str
) -> None:
    """Every process owners' page and action answers 403 to other roles; nothing is deployed."""
    CaseDriver(client, sessions).act_as(username)
    for path in (
        "/processes",
        "/processes/1",
        f"/processes/1/files/{ACK}",
        EDIT,
        "/processes/migrate",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(EDIT, data={"content": "x", "action": "deploy"}).status_code == 403
    assert client.post("/processes/1/rollback").status_code == 403
    assert client.post("/processes/migrate?from=1&to=1").status_code == 403
    assert _version_count(sessions) == 1


def test_someone_not_signed_in_is_sent_to_sign_in(client: FlaskClient) -> None:
    """Without a signed-in officer the pages redirect to sign-in rather than showing anything."""
    response = client.get("/processes")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_versions_page_lists_the_current_version_and_who_deployed_it(
    owner: FlaskClient,
) -> None:
    """/processes lists version 1 as current, deployed by 'test', with its deployment."""
    page = owner.get("/processes")
    assert page.status_code == 200
    row = re.search(r'<tr class="govuk-table__row" id="version-1">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert "Current" in row.group(1) and "test" in row.group(1) and "First version" in row.group(1)
    assert "deployed version 1 (test)" in page.text
    assert 'href="/processes"' in page.text  # the nav item for process owners


def test_version_page_lists_files_and_everything_added_in_the_first_version(
    owner: FlaskClient,
) -> None:
    """/processes/1 links each file and lists the first version's tasks as added."""
    page = owner.get("/processes/1")
    assert page.status_code == 200
    assert f'href="/processes/1/files/{ACK}"' in page.text
    assert 'href="/processes/1/files/forms/decide_appeal.json"' in page.text
    assert "Everything in the first version" in page.text
    assert "<code>decide_appeal</code>" in page.text
    assert owner.get("/processes/7").status_code == 404
    assert owner.get("/processes/1/files/forms/not_there.json").status_code == 404
    same = owner.get("/processes/migrate?from=1&to=1")
    assert same.status_code == 400 and "both the source and the target" in same.text


def test_a_diagram_page_hands_the_bundled_viewer_its_xml_without_inline_script(
    owner: FlaskClient, process_files: ProcessFiles
) -> None:
    """The diagram's XML is in a JSON block for the bundled viewer, which the app serves."""
    page = owner.get(f"/processes/1/files/{ACK}")
    assert page.status_code == 200
    block = re.search(
        r'<script type="application/json" id="diagram-xml">(.*?)</script>', page.text, re.S
    )
    assert block is not None
    assert json.loads(block.group(1)) == process_files.files[ACK]
    assert 'data-diagram-viewer data-diagram-source="diagram-xml"' in page.text
    assert '<script src="/assets/editor/process-viewer.js" defer></script>' in page.text
    for path, needle in (
        ("/assets/editor/process-viewer.js", b"importXML"),
        ("/assets/editor/process-viewer.css", b".djs-"),
        ("/assets/editor/process-modeler.js", b"saveXML"),
    ):
        with owner.get(path) as bundle:
            assert bundle.status_code == 200 and needle in bundle.data, path


def test_r6_a_decision_table_page_shows_its_rules_in_order(owner: FlaskClient) -> None:
    """The threshold table's count rule (R6) is shown as when/then rows."""
    page = owner.get("/processes/1/files/threshold.dmn")
    assert page.status_code == 200
    rules = re.findall(r"<code>(rule_[a-z_]+)</code>", page.text)
    assert rules == ["rule_count_met", "rule_count_not_met"]
    assert "&gt;= local_threshold_number" in page.text


def test_the_editor_page_puts_the_diagram_in_the_form_for_the_modeler(
    owner: FlaskClient, process_files: ProcessFiles
) -> None:
    """The editor's textarea holds the XML the bundled modeler starts from and writes back."""
    page = owner.get(EDIT)
    assert page.status_code == 200
    area = re.search(r'<textarea[^>]*name="content"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert area is not None and html.unescape(area.group(1)) == process_files.files[ACK]
    assert 'data-diagram-editor="content"' in page.text
    assert '<script src="/assets/editor/process-modeler.js" defer></script>' in page.text


def test_validate_reports_no_problems_for_a_relabelled_diagram_and_deploys_nothing(
    owner: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """Validating a good edit says so and does not deploy it."""
    text = relabelled(process_files).files[ACK]
    page = owner.post(EDIT, data={"content": text, "action": "validate"})
    assert page.status_code == 200
    assert 'id="no-problems"' in page.text
    assert _version_count(sessions) == 1


def test_a_broken_edit_shows_each_problem_beside_the_editor_marks_the_element_and_keeps_the_text(
    owner: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """A task naming a missing form: file and element listed, element marked, text kept, no deploy."""
    text = process_files.files[ACK].replace(
        'value="acknowledge_application.json"', 'value="missing_form.json"'
    )
    for action in ("validate", "deploy"):
        page = owner.post(EDIT, data={"content": text, "action": action})
        assert page.status_code == 422
        problems = re.findall(r'<li class="problem">(.*?)</li>', page.text, re.S)
        assert any(
            ACK in p and "acknowledge_application" in p and "missing_form.json" in p
            for p in problems
        ), problems
        assert 'data-problem-elements="[&#34;acknowledge_application&#34;]"' in page.text
        assert "missing_form.json" in html.unescape(page.text)
    assert _version_count(sessions) == 1


def test_xml_that_is_not_well_formed_is_reported_with_its_line(
    owner: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """A diagram cut short is refused with the file and line number."""
    text = process_files.files[ACK].replace("</bpmn:userTask>", "", 1)
    page = owner.post(EDIT, data={"content": text, "action": "deploy"})
    assert page.status_code == 422
    problem = re.search(r'<li class="problem">(.*?)</li>', page.text, re.S)
    assert problem is not None and ACK in problem.group(1) and "line" in problem.group(1)
    assert _version_count(sessions) == 1


def test_a_form_with_a_json_syntax_error_is_refused_with_its_line(
    owner: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Editing a form checks its JSON syntax first and names the line of the mistake."""
    path = "/processes/1/edit/forms/record_appeal.json"
    page = owner.post(
        path, data={"content": '{\n  "type": "object",\n  oops\n}', "action": "deploy"}
    )
    assert page.status_code == 422
    problem = re.search(r'<li class="problem">(.*?)</li>', page.text, re.S)
    assert problem is not None
    assert "forms/record_appeal.json" in problem.group(1) and "line 3" in problem.group(1)
    assert _version_count(sessions) == 1


def test_deploying_an_edit_makes_a_version_new_cases_take_and_shows_its_changes(
    owner: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """Deploy from the editor: version 2 by owen, current, its diff shows the new label."""
    text = relabelled(process_files).files[ACK]
    response = owner.post(EDIT, data={"content": text, "action": "deploy"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/processes/2"
    page = owner.get("/processes/2")
    assert "Deployed as version 2" in page.text
    assert "Acknowledge the application" in page.text and "Changes from version 1" in page.text
    with sessions() as session:
        version = session.scalar(select(ProcessVersion).where(ProcessVersion.number == 2))
        assert version is not None and version.deployed_by == "owen"
        assert processes.latest_version(session).number == 2
    again = owner.post(EDIT, data={"content": text, "action": "deploy"})
    assert again.headers["Location"] == "/processes/2"
    assert _version_count(sessions) == 2


def test_a_new_form_can_be_added_from_the_browser(
    owner: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A form not in the version starts empty, and deploying it adds it to a new version."""
    path = "/processes/1/edit/forms/confirm_named_contact.json"
    page = owner.get(path)
    assert page.status_code == 200 and "&#34;properties&#34;" in page.text
    form = '{"type": "object", "properties": {"ok": {"type": "boolean"}}}'
    assert owner.post(path, data={"content": form, "action": "deploy"}).status_code == 302
    with sessions() as session:
        assert "forms/confirm_named_contact.json" in processes.latest_version(session).files
    assert owner.get("/processes/1/edit/../secrets.txt").status_code == 404


def test_rollback_from_the_versions_page_makes_the_earlier_version_current(
    owner: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """'Make current' on version 1 after version 2: new cases take version 1 again."""
    with sessions() as session:
        processes.deploy(session, relabelled(process_files), "owen")
    response = owner.post("/processes/1/rollback")
    assert response.status_code == 302
    page = owner.get("/processes")
    assert "New cases now take version 1" in page.text
    assert "rolled back to version 1 (owen)" in page.text
    with sessions() as session:
        assert processes.latest_version(session).number == 1


def test_moving_cases_from_the_browser_lists_then_moves_and_keeps_the_refused(
    client: FlaskClient, sessions: sessionmaker[Session], process_files: ProcessFiles
) -> None:
    """Dry run lists the movable case and the refused one with its reason; moving moves one."""
    waiting = CaseDriver(client, sessions)
    waiting.apply()
    with sessions() as session:
        processes.deploy(session, acknowledgement_removed(process_files), "owen")
    moving = CaseDriver(client, sessions)
    moving.apply()  # started on version 2 ...
    with sessions() as session:
        processes.deploy(session, relabelled(process_files), "owen")  # ... moves to 3
    waiting.act_as("owen")
    dry = client.get("/processes/migrate?from=2&to=3")
    assert dry.status_code == 200
    assert "1 case(s) can move from version 2 to 3" in dry.text
    dry_one = client.get("/processes/migrate?from=1&to=2")
    refused = re.search(r'<ul class="govuk-list" id="not-movable">(.*?)</ul>', dry_one.text, re.S)
    assert refused is not None and waiting.reference in refused.group(1)
    assert "no such task" in refused.group(1)
    real = client.post("/processes/migrate?from=2&to=3")
    assert "1 case(s) moved from version 2 to 3" in real.text
    with sessions() as session:
        numbers = {c.reference: c.process_version.number for c in session.scalars(select(Case))}
    assert numbers == {waiting.reference: 1, moving.reference: 3}
    moving.act_as("carol")  # process owners see versions, not cases' personal data
    history = client.get(f"/cases/{moving.reference}")
    assert "Moved to another process version" in history.text
