"""The trigger-workflow command: every command has help; setup, deploy, officers, demo and cases work."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from trigger_workflow.cli import main

COMMANDS = [
    [],
    ["init-db"],
    ["deploy"],
    ["demo"],
    ["serve"],
    ["worker"],
    ["officers"],
    ["officers", "add"],
    ["officers", "list"],
    ["cases"],
    ["cases", "list"],
    ["cases", "show"],
    ["api-clients"],
    ["api-clients", "issue"],
    ["api-clients", "list"],
    ["api-clients", "revoke"],
    ["processes", "versions"],
    ["processes", "diff"],
    ["processes", "rollback"],
    ["processes", "migrate"],
    ["subject-access"],
    ["subject-access", "search"],
    ["subject-access", "export"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_every_command_has_help(command: list[str]) -> None:
    """--help works on every command and says what it does."""
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_operator_sets_up_deploys_adds_officer_and_loads_demo(database_url: str) -> None:
    """init-db, deploy (twice: second is a no-op), officers add/list, demo, cases list/show."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False, input=input)
        assert result.exit_code == 0, result.output
        return result.output

    assert "up to date" in run("init-db")
    assert "Deployed new version 1" in run("deploy")
    assert "Already deployed: version 1" in run("deploy")
    assert "Added dee" in run(
        "officers",
        "add",
        "dee",
        "--name",
        "Dee Police",
        "--role",
        "partner",
        "--agency",
        "police",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert "dee" in run("officers", "list")
    loaded = run("demo", "--cases", "3")
    assert "3 new cases" in loaded and "County demo: 5 new cases in Chesterfield" in loaded
    listing = run("cases", "list")
    prefixes = {line.split("-")[0] for line in listing.splitlines() if line.strip()}
    assert prefixes == {"CT", "CHF", "AMV"}  # the first council's, and the county demo's two
    reference = listing.split()[0]
    shown = run("cases", "show", reference)
    assert "case_started" in shown and "task_completed" in shown


def test_deploy_reports_problems_and_fails(database_url: str, tmp_path: Path) -> None:
    """A broken diagram makes deploy print the file and line and exit non-zero."""
    root = Path(__file__).resolve().parents[1]
    processes = tmp_path / "processes"
    processes.mkdir()
    for path in (root / "processes").iterdir():
        if path.is_file():  # processes/tests/ holds the diagram tests
            (processes / path.name).write_text(path.read_text())
    (processes / "appeal.bpmn").write_text("<bpmn:definitions>")
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    result = runner.invoke(main, ["deploy", "--processes-dir", str(processes)], env=env)
    assert result.exit_code == 1
    assert "error: appeal.bpmn, line 1" in result.output


def test_partner_without_agency_is_refused(database_url: str) -> None:
    """A partner without an agency is refused with a message, not a traceback."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    result = runner.invoke(
        main, ["officers", "add", "x", "--name", "X", "--role", "partner"], env=env
    )
    assert result.exit_code == 1
    assert "needs an agency" in result.output
