"""Python in the diagrams is compiled at deploy time, since the BPMN parser never checks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from trigger_workflow.engine.lint import lint_expressions
from trigger_workflow.engine.loader import ProcessFiles, decode_xml
from trigger_workflow.errors import DiagramError, DiagramProblem, Problems
from trigger_workflow.services.process_owners import processes

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bpmn-corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.name.endswith((".bpmn", ".bpmn20.xml")))
TIMER = (
    '<bpmn:boundaryEvent id="appeal_overdue" attachedToRef="decide_appeal" cancelActivity="false">'
    '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D</bpmn:timeDuration></bpmn:timerEventDefinition>'
    "</bpmn:boundaryEvent>\n"
)
FLOW_START = '    <bpmn:sequenceFlow id="flow_start_record_appeal"'

# (file, text to replace, broken text, element id, kind named, line offset of the error in the text)
BROKEN = {
    "condition": (
        "community_trigger.bpmn",
        'threshold_outcome == "met"',
        'threshold_outcome == = "met"',
        "flow_threshold_met",
        "The condition on flow 'flow_threshold_met' is not valid Python: invalid syntax",
        0,
    ),
    "script": (
        "appeal.bpmn",
        'appeal_outcome = "none"',
        'appeal_outcome = "none"\nif appeal_outcome\n    pass',
        "set_no_appeal",
        "The script of script task 'set_no_appeal' is not valid Python: expected ':'",
        1,
    ),
    "post-script": (
        "case_review.bpmn",
        'information_response["agency"] = agency',
        'information_response["agency"] = = agency',
        "answer_information_request",
        "The post-script of user task 'answer_information_request' is not valid Python",
        0,
    ),
    "timer": (
        "appeal.bpmn",
        FLOW_START,
        "    " + TIMER + FLOW_START,
        "appeal_overdue",
        "The timer on boundary event 'appeal_overdue' is not valid Python",
        0,
    ),
}


def lint(files: ProcessFiles) -> list[DiagramProblem]:
    """Return what the lint records for the files."""
    problems = Problems()
    lint_expressions(files, problems)
    return problems.items


def broken(files: ProcessFiles, kind: str) -> ProcessFiles:
    """Return a copy of the files with one expression or script broken."""
    name, old, new, *_ = BROKEN[kind]
    assert files.files[name].count(old) == 1
    return ProcessFiles({**files.files, name: files.files[name].replace(old, new)})


def line_of(text: str, fragment: str) -> int:
    """Return the line number (from 1) on which the fragment starts."""
    return text[: text.index(fragment)].count("\n") + 1


def test_project_processes_lint_clean(process_files: ProcessFiles) -> None:
    """Every condition and script in the project's own diagrams compiles."""
    assert lint(process_files) == []


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_code_is_reported_where_it_is(process_files: ProcessFiles, kind: str) -> None:
    """The problem names the file, the owning element, the line and the kind of code."""
    name, _, new, element_id, message, offset = BROKEN[kind]
    files = broken(process_files, kind)
    [problem] = lint(files)
    assert problem.file == name
    assert problem.element_id == element_id
    fragment = new.strip().split("\n")[0] if kind != "timer" else '"P5D'
    assert problem.line == line_of(files.files[name], fragment) + offset
    assert problem.message.startswith(message)
    assert problem.message.endswith(".")


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_deploy_refuses_broken_code(
    session: Session, process_files: ProcessFiles, kind: str
) -> None:
    """A diagram whose Python would fail in a live case is not deployed."""
    with pytest.raises(DiagramError) as raised:
        processes.deploy(session, broken(process_files, kind), "test")
    assert [p.element_id for p in raised.value.problems] == [BROKEN[kind][3]]


def test_indented_script_is_reported_since_spiffworkflow_runs_it_as_written(
    process_files: ProcessFiles,
) -> None:
    """SpiffWorkflow execs the text unchanged, so a script indented under its tag fails live."""
    old = '<bpmn:script>appeal_outcome = "none"</bpmn:script>'
    new = '<bpmn:script>\n        appeal_outcome = "none"\n      </bpmn:script>'
    text = process_files.files["appeal.bpmn"].replace(old, new)
    [problem] = lint(ProcessFiles({"appeal.bpmn": text}))
    assert problem.line == line_of(text, 'appeal_outcome = "none"')
    assert "unexpected indent" in problem.message


def test_empty_condition_and_missing_script_are_reported(process_files: ProcessFiles) -> None:
    """An empty condition would make the flow unconditional; a script task needs a script."""
    text = process_files.files["appeal.bpmn"]
    text = text.replace(">not appeal_received<", "> <").replace(
        "<bpmn:script>appeal_outcome = appeal_decision\n"
        'opcc_findings = appeal_findings if appeal_decision == "upheld" else None</bpmn:script>',
        "",
    )
    problems = lint(ProcessFiles({"appeal.bpmn": text}))
    assert sorted((p.element_id, p.message) for p in problems) == [
        ("flow_no_appeal_received", "The condition on flow 'flow_no_appeal_received' is empty."),
        ("set_appeal_outcome", "The script of script task 'set_appeal_outcome' is empty."),
    ]


def test_feel_condition_in_a_spiffworkflow_file_is_named(process_files: ProcessFiles) -> None:
    """A FEEL expression pasted from Camunda is named as such, not just as a syntax error."""
    text = process_files.files["appeal.bpmn"].replace(">not appeal_received<", ">= not(x)<")
    [problem] = lint(ProcessFiles({"appeal.bpmn": text}))
    assert "a FEEL expression, not a Python expression SpiffWorkflow can run" in problem.message


def test_corpus_is_beside_the_project() -> None:
    """The shared corpus is present (CI clones the project with ../shared beside it)."""
    assert len(CORPUS_FILES) > 80


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_lints_without_raising(path: Path) -> None:
    """Diagrams written by others, with FEEL, JUEL or no code at all, only ever record problems."""
    problems = lint(ProcessFiles({path.name: decode_xml(path.read_bytes())}))
    for problem in problems:
        assert problem.file == path.name
        assert problem.message
