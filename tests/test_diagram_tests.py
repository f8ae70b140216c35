"""Diagram tests: the project's own paths (the five ends) run in CI, and a broken candidate fails clearly."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from trigger_workflow.cli import main
from trigger_workflow.engine import clock
from trigger_workflow.services.process_owners import diagram_tests, processes

ROOT = Path(__file__).resolve().parents[1]
PATHS = sorted((ROOT / "processes" / "tests").glob("*.yaml"))


@pytest.fixture(scope="module")
def project_files() -> processes.loader.ProcessFiles:
    """Return the project's process files."""
    return processes.read_process_files(ROOT / "processes", ROOT / "forms")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_project_path_passes(path: Path, project_files: processes.loader.ProcessFiles) -> None:
    """Each of the project's own YAML paths runs through the real engine, step by step, as written."""
    result = diagram_tests.run_file(path, project_files)
    assert result.passed, "\n".join(result.lines())
    assert result.steps and all(step.passed for step in result.steps)


def test_the_project_paths_reach_every_end() -> None:
    """The YAML paths between them end at each end of the main diagram, and one goes round an upheld appeal."""
    ends = set()
    upheld = False
    for path in PATHS:
        steps = yaml.safe_load(path.read_text())["steps"]
        if "end" in steps[-1]["expect"]:  # a path may stop mid-way (a fresh round begun)
            ends.add(steps[-1]["expect"]["end"])
        upheld |= any(s.get("data", {}).get("appeal_decision") == "upheld" for s in steps)
    assert ends == {
        "Application rejected",
        "Threshold not met",
        "Closed: no appeal",
        "Closed: appeal confirmed",
    }
    assert upheld


def candidate(tmp_path: Path) -> Path:
    """Copy the project's processes, forms and tests into a candidate folder."""
    folder = tmp_path / "candidate"
    shutil.copytree(ROOT / "processes", folder)
    shutil.copytree(ROOT / "forms", folder / "forms")
    return folder


def test_a_broken_candidate_fails_at_the_step_that_differs(tmp_path: Path) -> None:
    """A condition changed in a candidate: the command reports the step and what differs, exits 1, and touches no database."""
    folder = candidate(tmp_path)
    main_diagram = folder / "community_trigger.bpmn"
    main_diagram.write_text(
        main_diagram.read_text().replace(
            'threshold_outcome == "not_met"', 'threshold_outcome == "notmet"'
        )
    )
    database = tmp_path / "real.sqlite"
    result = CliRunner().invoke(
        main,
        [
            "--database-url",
            f"sqlite:///{database}",
            "processes",
            "test",
            "--processes-dir",
            str(folder),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "FAIL " in result.output and "threshold_not_met.yaml" in result.output
    # The condition now closes the case after the appeal window (R18): record_appeal differs.
    assert "FAIL step 5: record_appeal" in result.output
    assert "5 passed, 1 failed" in result.output
    assert not database.exists()


def test_a_file_that_is_not_a_test_says_where(
    tmp_path: Path, project_files: processes.loader.ProcessFiles
) -> None:
    """Bad YAML names its line; a step without a task names the step; neither runs anything."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps:\n\t- task: acknowledge_application\n")
    result = diagram_tests.run_file(broken, project_files)
    assert not result.passed and result.problems[0].startswith("Not valid YAML at line 2")
    missing = tmp_path / "missing.yaml"
    missing.write_text("steps:\n  - data: {}\n")
    result = diagram_tests.run_file(missing, project_files)
    assert result.problems == ["At steps/0: 'task' is a required property"]


def test_an_undeployable_candidate_is_reported(tmp_path: Path) -> None:
    """A candidate the deploy checks refuse: each problem is reported; no step runs."""
    folder = candidate(tmp_path)
    (folder / "forms" / "record_appeal.json").unlink()
    result = CliRunner().invoke(
        main, ["processes", "test", "--processes-dir", str(folder), str(PATHS[0])]
    )
    assert result.exit_code == 1
    assert "The process cannot be deployed: appeal.bpmn" in result.output
    assert "record_appeal.json" in result.output


@pytest.mark.parametrize("command", [["processes", "validate"], ["processes", "test"]])
def test_process_owner_commands_have_help(command: list[str]) -> None:
    """--help works on the process owners' commands and says what they do."""
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_a_step_runs_on_its_day_and_time_does_not_run_backwards(
    tmp_path: Path, project_files: processes.loader.ProcessFiles
) -> None:
    """Each step happens on its `day` (a late acknowledgement escalates, whatever day the test
    runs); a day before the previous step's is reported at that step; the real clock is back after."""
    application = yaml.safe_load(
        (ROOT / "processes" / "tests" / "threshold_not_met.yaml").read_text()
    )
    submit = application["steps"][0]
    late = {
        "task": "acknowledge_application",
        "day": "2026-11-10",  # due 9 November, five working days after receipt
        "data": {
            "named_contact": "Carol Coordinator",
            "acknowledged_on": "2026-11-10",
            "acknowledgement_method": "email",
        },
        "expect": {"open": ["handle_escalation", "record_complaints"]},
    }
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump({"received_on": "2026-11-02", "steps": [submit, late]}))
    result = diagram_tests.run_file(path, project_files)
    assert result.passed, "\n".join(result.lines())
    backwards = {**late, "day": "2026-10-30"}
    path.write_text(yaml.safe_dump({"received_on": "2026-11-02", "steps": [submit, backwards]}))
    result = diagram_tests.run_file(path, project_files)
    assert result.steps[-1].problems == ["Its day 2026-10-30 is before the previous step's."]
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 60
