"""The project's diagrams and forms: valid, drawn, complete, and deployed as content-hashed versions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR
from sqlalchemy.orm import Session

from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.errors import DiagramError
from trigger_workflow.services.process_owners import processes

ROOT = Path(__file__).resolve().parents[1]
BPMN = sorted((ROOT / "processes").glob("*.bpmn"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiff": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
STAGES = [
    "application",
    "acknowledgement",
    "threshold_decision",
    "case_review",
    "outcome_notice",
    "appeal",
    "threshold_appeal",
]


@pytest.mark.parametrize("path", BPMN, ids=lambda p: p.name)
def test_diagram_is_valid_bpmn_with_diagram_interchange(path: Path) -> None:
    """Each diagram passes the BPMN 2.0 XSD and draws every node and flow (opens in modelers)."""
    tree = etree.parse(str(path))
    VALIDATOR.validate(tree.getroot(), path.name)  # raises ValidationException when invalid
    drawn = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    process = tree.find(".//bpmn:process", NS)
    assert process is not None
    elements = {
        e.get("id") for e in process if e.get("id") and etree.QName(e).localname != "laneSet"
    }
    assert elements - drawn == set(), f"not drawn: {elements - drawn}"


def test_main_process_calls_one_diagram_per_stage() -> None:
    """The main diagram calls each stage's diagram through a call activity."""
    tree = etree.parse(str(ROOT / "processes" / "community_trigger.bpmn"))
    called = [e.get("calledElement") for e in tree.iterfind(".//bpmn:callActivity", NS)]
    assert sorted(called) == sorted(STAGES)
    for stage in STAGES:
        assert (ROOT / "processes" / f"{stage}.bpmn").exists()


def test_every_user_task_has_a_lane_mapped_to_a_role_and_a_valid_form(
    process_files: ProcessFiles,
) -> None:
    """Every form reference resolves to a valid JSON Schema, every lane maps to a role."""
    spec_json, lanes, _ = processes.check(process_files)
    assert spec_json
    for path in BPMN:
        tree = etree.parse(str(path))
        for task in tree.iterfind(".//bpmn:userTask", NS):
            names = {p.get("name"): p.get("value") for p in task.iterfind(".//spiff:property", NS)}
            schema = json.loads((ROOT / "forms" / names["formJsonSchemaFilename"]).read_text())
            jsonschema.Draft202012Validator.check_schema(schema)
            if "formUiSchemaFilename" in names:
                assert (ROOT / "forms" / names["formUiSchemaFilename"]).exists()
    assert set(lanes.values()) == {"applicant", "coordinator", "partner", "chair", "opcc"}


def test_application_form_asks_what_r3_lists(process_files: ProcessFiles) -> None:
    """R3: basis, contacts, needs, summary, incidents, impact, outcome wanted, consent, declaration."""
    schema = process_files.json_file("forms/submit_application.json")
    assert schema is not None
    asked = set(schema["properties"])
    assert {
        "basis",
        "applicant",
        "victim",
        "needs",
        "vulnerabilities",
        "asb_summary",
        "incidents",
        "impact",
        "desired_outcome",
        "consent_to_share",
        "declaration",
        "channel",
    } <= asked
    incident = set(schema["properties"]["incidents"]["items"]["properties"])
    assert {
        "behaviour_date",
        "location",
        "what_happened",
        "reported_on",
        "reported_to",
        "reference",
        "action_taken",
    } <= incident


def test_deploy_creates_a_version_only_when_content_changes(
    session: Session, process_files: ProcessFiles
) -> None:
    """The same files deploy once; a changed file makes version 2."""
    first = processes.deploy(session, process_files, "owner")
    again = processes.deploy(session, process_files, "owner")
    assert first.created and not again.created
    assert again.version.id == first.version.id
    changed = dict(process_files.files)
    changed["timescales.toml"] = changed["timescales.toml"].replace(
        'days = 5\nfrom = "received"', 'days = 3\nfrom = "received"'
    )
    second = processes.deploy(session, ProcessFiles(changed), "owner")
    assert second.created and second.version.number == 2


def test_broken_diagram_is_refused_with_file_and_line(
    session: Session, process_files: ProcessFiles
) -> None:
    """A diagram that is not well-formed XML is refused, naming the file and line; nothing is deployed."""
    broken = dict(process_files.files)
    broken["appeal.bpmn"] = broken["appeal.bpmn"].replace("</bpmn:process>", "</bpmn:proces>")
    with pytest.raises(DiagramError) as raised:
        processes.deploy(session, ProcessFiles(broken), "owner")
    problem = raised.value.problems[0]
    assert problem.file == "appeal.bpmn"
    assert problem.line and problem.line > 1
    assert "well-formed" in problem.message


def test_unmapped_lane_is_refused_naming_the_task(process_files: ProcessFiles) -> None:
    """A lane missing from lanes.toml is a deployment error that names the task and lane."""
    files = dict(process_files.files)
    files["lanes.toml"] = files["lanes.toml"].replace('"Review chair" = "chair"\n', "")
    with pytest.raises(DiagramError) as raised:
        processes.check(ProcessFiles(files))
    messages = [str(p) for p in raised.value.problems]
    assert any("Hold review meeting" in m and "Review chair" in m for m in messages), messages


def test_missing_form_is_refused(process_files: ProcessFiles) -> None:
    """A user task naming a form that is not there is a deployment error."""
    files = {k: v for k, v in process_files.files.items() if k != "forms/decide_appeal.json"}
    with pytest.raises(DiagramError) as raised:
        processes.check(ProcessFiles(files))
    assert any("decide_appeal.json" in str(p) for p in raised.value.problems)


def test_missing_main_diagram_is_refused(process_files: ProcessFiles) -> None:
    """Without the main diagram there is nothing to run: the error names the process."""
    files = {k: v for k, v in process_files.files.items() if k != "community_trigger.bpmn"}
    with pytest.raises(DiagramError) as raised:
        processes.check(ProcessFiles(files))
    assert "community_trigger" in str(raised.value)


def test_task_without_timescale_is_refused(process_files: ProcessFiles) -> None:
    """Every officer's task needs a due date: no entry and no [default] is a deployment error."""
    files = dict(process_files.files)
    text = files["timescales.toml"]
    text = text.replace('[default]\ndays = 5\nfrom = "ready"\n', "")
    text = text.replace("[tasks.decide_appeal]", "[tasks.not_a_task]")
    files["timescales.toml"] = text
    with pytest.raises(DiagramError) as raised:
        processes.check(ProcessFiles(files))
    messages = [str(p) for p in raised.value.problems]
    # decide_appeal is in two diagrams (the appeal against a review and against a threshold).
    assert [p.element_id for p in raised.value.problems] == ["decide_appeal", "decide_appeal", None]
    assert "[tasks.not_a_task] names a task that no diagram has." in messages[-1]


@pytest.mark.parametrize("name", ["choose_agencies_ui.json", "decide_threshold_ui.json"])
def test_officers_form_help_says_the_rules_in_words_not_codes(name: str) -> None:
    """Officers read the help under each question: it says what the rule asks, never "R9"."""
    ui = json.loads((ROOT / "forms" / name).read_text())
    helps = [v["ui:help"] for v in ui.values() if isinstance(v, dict) and "ui:help" in v]
    assert helps
    coded = [text for text in helps if re.search(r"\bR\d+\b", text)]
    assert coded == []


def test_acknowledgement_asks_for_the_named_officer_the_letters_print() -> None:
    """R5: the named contact is an officer, by name: the acknowledgement letter prints them."""
    ui = json.loads((ROOT / "forms" / "acknowledge_application_ui.json").read_text())
    help_text = ui["named_contact"]["ui:help"]
    assert "name of the officer" in help_text and "letters print" in help_text
