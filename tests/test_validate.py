"""Validating process files before deploying: the deploy checks, names, decision tables, the shared corpus."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from tests.scenario import CaseDriver
from trigger_workflow.cli import main
from trigger_workflow.engine.loader import ProcessFiles
from trigger_workflow.services.process_owners import validation

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "bpmn-corpus"
CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*") if p.name.endswith((".bpmn", ".bpmn20.xml", ".dmn"))
)
# Corpus files that a process owner validating them alone is told have errors; all others are clean.
WITH_ERRORS = {
    "bpmn-io/activity-markers-combination.bpmn", "bpmn-io/complex.bpmn", "bpmn-io/duplicate-ids.bpmn",
    "bpmn-io/event-subprocess-icons.bpmn", "bpmn-io/events.bpmn", "bpmn-io/invalid-child.bpmn",
    "bpmn-io/kitchen-sink.bpmn", "bpmn-io/missing-di-plane.bpmn", "bpmn-io/missing-namespace.bpmn",
    "bpmn-io/multiple-dis.bpmn", "bpmn-io/sample.bpmn", "bpmn-io/sequenceFlow-missingWaypoints.bpmn",
    "bpmn-io/vertical-pools.bpmn", "miwg/B.1.0.bpmn", "miwg/B.2.0.bpmn", "miwg/C.1.0.bpmn",
    "miwg/C.1.1.bpmn", "miwg/C.3.0.bpmn", "miwg/C.4.0.bpmn", "miwg/C.5.0.bpmn", "miwg/C.6.0.bpmn",
    "miwg/C.7.0.bpmn", "miwg/C.8.1.bpmn", "miwg/C.9.0.bpmn", "miwg/C.9.2.bpmn",
    "miwg/actibpm-3.E-8__A.3.0-export.bpmn", "miwg/aris-10.2025.07__A.4.0-export.bpmn",
    "miwg/bizagi-2.8.0.8__A.1.0-roundtrip.bpmn", "miwg/genmymodel-0.47__C.1.1-export.bpmn",
    "miwg/ibm-process-designer-8.0.1__A.3.0-export.bpmn", "miwg/ibo-prometheus-3.9__A.4.0-roundtrip.bpmn",
    "miwg/modelfoundry-1.1.1__A.4.1-roundtrip.bpmn", "miwg/signavio-19.9.0__C.4.0-export.2.bpmn",
    "miwg/signavio-19.9.0__C.9.0-export.bpmn", "miwg/trisotech-wm-12.6.3__C.9.1-export.bpmn",
    "miwg/yaoqiang-4.0__A.2.0-export.bpmn", "spiffworkflow/No-Start-Event.bpmn20.xml",
    "spiffworkflow/business_rule_task.bpmn", "spiffworkflow/call_activity_level_2.bpmn",
    "spiffworkflow/call_activity_nested.bpmn", "spiffworkflow/correlation_two_conversations.bpmn",
    "spiffworkflow/data_object_invalid.bpmn", "spiffworkflow/invalid_cancel.bpmn",
    "spiffworkflow/invalid_decision.dmn", "spiffworkflow/level2c.dmn",
    "spiffworkflow/parallel_multiinstance_invalid.bpmn", "spiffworkflow/standard_loop_invalid.bpmn",
}  # fmt: skip


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_is_clean_or_explained_never_a_traceback(path: Path) -> None:
    """Each shared corpus file validates cleanly or gets errors with file, line and a sentence, as recorded."""
    report = validation.validate_paths([path])
    name = f"{path.parent.name}/{path.name}"
    assert bool(report.errors) == (name in WITH_ERRORS), [str(f) for f in report.errors]
    for finding in report.errors:
        assert finding.problem.file == path.name
        assert finding.problem.line is not None
        assert len(finding.problem.message) > 10 and "Traceback" not in finding.problem.message
        assert "{http" not in finding.problem.message


def copy_process(tmp_path: Path) -> Path:
    """Copy the project's processes and forms into a folder the test may break."""
    shutil.copytree(ROOT / "processes", tmp_path / "processes")
    shutil.copytree(ROOT / "forms", tmp_path / "processes" / "forms")
    return tmp_path / "processes"


def replace(path: Path, old: str, new: str) -> None:
    """Replace text in a file, which must contain it."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_validate_the_project_folder_is_clean() -> None:
    """The project's own process set has no errors and no warnings; exit status 0."""
    result = CliRunner().invoke(
        main, ["processes", "validate", str(ROOT / "processes"), "--forms-dir", str(ROOT / "forms")]
    )
    assert result.exit_code == 0, result.output
    assert "No problems: 0 error(s), 0 warning(s)" in result.output


def test_validate_reports_each_problem_with_file_line_and_element(tmp_path: Path) -> None:
    """A broken condition, a bad decision cell and a missing form: each reported with file, line, element; exit 1."""
    folder = copy_process(tmp_path)
    replace(
        folder / "community_trigger.bpmn",
        'threshold_outcome == "not_met"',
        'threshold_outcome = "not_met"',
    )
    (folder / "forms" / "record_appeal.json").unlink()
    result = CliRunner().invoke(main, ["processes", "validate", str(folder)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = [
        "error: community_trigger.bpmn, line ",
        "element 'flow_threshold_appeal_not_met': The condition on flow 'flow_threshold_appeal_not_met' is not valid Python",
        "error: appeal.bpmn, line ",
        "element 'record_appeal': The form 'record_appeal.json' (formJsonSchemaFilename) is not in forms/.",
    ]
    for piece in expected:
        assert any(piece in line for line in lines), (piece, result.output)
    # record_appeal is in two diagrams (appeal and threshold_appeal): its missing form twice.
    assert "error: threshold_appeal.bpmn, line " in result.output
    assert "Problems found: 3 error(s)" in result.output


def test_a_decision_cell_that_does_not_compile_is_reported_with_its_line(tmp_path: Path) -> None:
    """A decision table's bad output cell: the engine's message and the cell's own, with line and cell id."""
    folder = copy_process(tmp_path)
    replace(folder / "threshold.dmn", "<text>True</text>", "<text>True True</text>")
    result = CliRunner().invoke(main, ["processes", "validate", str(folder)])
    assert result.exit_code == 1
    # The law's table has a second output (threshold_number), so the cell is a line lower than
    # in the old table: the engine names the <outputEntry> (line 18), the lint its <text> (19).
    assert (
        "error: threshold.dmn, line 18, element 'rule_count_met_output': "
        "Malformed Output Expression 'True True'"
    ) in result.output
    assert (
        "error: threshold.dmn, line 19, element 'rule_count_met_output': "
        "The output cell 'rule_count_met_output' is not valid Python: invalid syntax"
    ) in result.output


def test_names_nothing_sets_are_warnings(tmp_path: Path) -> None:
    """A condition reading an unset name is a warning (exit 0; 1 with --strict); form fields, loop items and table outputs are known."""
    folder = copy_process(tmp_path)
    replace(
        folder / "appeal.bpmn",
        "<bpmn:script>appeal_outcome = appeal_decision\n",
        "<bpmn:script>appeal_outcome = appeal_decison\n",
    )
    result = CliRunner().invoke(main, ["processes", "validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "warning: appeal.bpmn, line " in result.output
    assert (
        "element 'set_appeal_outcome': The script of script task 'set_appeal_outcome' reads 'appeal_decison'"
        in result.output
    )
    assert "0 error(s), 1 warning(s)" in result.output
    strict = CliRunner().invoke(main, ["processes", "validate", str(folder), "--strict"])
    assert strict.exit_code == 1


def test_names_lint_knows_what_the_process_sets() -> None:
    """Form fields, multi-instance items, decision outputs, sandbox functions and the context the
    application gives beside the answers (receipt day, deadlines, derived names) are never reported."""
    files = validation.processes.read_process_files(ROOT / "processes", ROOT / "forms")
    assert validation.validate_set(files).findings == []
    changed = dict(files.files)
    changed["appeal.bpmn"] = changed["appeal.bpmn"].replace(
        "<bpmn:script>appeal_outcome = appeal_decision\n",
        "<bpmn:script>appeal_outcome = appeal_decision if len(agencies) and count_met and agency and deadlines and received_on and appeal_late else min(1, 2)\n",
    )
    assert validation.validate_set(ProcessFiles(changed)).findings == []


def test_single_files_are_checked_alone(tmp_path: Path) -> None:
    """Given files (not a folder): XSD, parse and code are checked; a bad script names its line."""
    good = CliRunner().invoke(
        main, ["processes", "validate", str(ROOT / "processes" / "appeal.bpmn")]
    )
    assert good.exit_code == 0, good.output
    broken = tmp_path / "appeal.bpmn"
    broken.write_text(
        (ROOT / "processes" / "appeal.bpmn")
        .read_text()
        .replace('appeal_outcome = "none"', "import os")
    )
    result = CliRunner().invoke(main, ["processes", "validate", str(broken)])
    assert result.exit_code == 1
    assert (
        "element 'set_no_appeal': The script of script task 'set_no_appeal' is refused by the script sandbox: Scripts may not import modules (import os)."
        in result.output
    )


def test_upload_page_shows_the_same_messages(client: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    """A process owner uploads a broken diagram and sees file, line, element and message; a coordinator is refused."""
    driver = CaseDriver(client, sessions)
    driver.act_as("carol")
    assert client.get("/processes/validate").status_code == 403
    driver.act_as("owen")
    assert client.get("/processes/validate").status_code == 200
    text = (ROOT / "processes" / "appeal.bpmn").read_text()
    broken = text.replace('appeal_outcome = "none"', 'appeal_outcome = = "none"')
    response = client.post(
        "/processes/validate",
        data={"files": (io.BytesIO(broken.encode()), "appeal.bpmn")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "set_no_appeal" in response.text and "is not valid Python" in response.text
    assert "1 error(s), 0 warning(s) in appeal.bpmn" in response.text
    fine = client.post(
        "/processes/validate",
        data={"files": (io.BytesIO(text.encode()), "appeal.bpmn")},
        content_type="multipart/form-data",
    )
    assert fine.status_code == 200 and 'id="validation-ok"' in fine.text
