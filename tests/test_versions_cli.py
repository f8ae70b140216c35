"""Process owners' commands: versions, diff, rollback and migrate, on a real database."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import ROOT
from tests.process_variants import relabelled
from trigger_workflow.cli import main
from trigger_workflow.services.process_owners import processes


def _copy_process(tmp_path: Path) -> tuple[Path, Path]:
    processes_dir, forms_dir = tmp_path / "processes", tmp_path / "forms"
    shutil.copytree(ROOT / "processes", processes_dir)
    shutil.copytree(ROOT / "forms", forms_dir)
    return processes_dir, forms_dir


def test_process_owner_deploys_diffs_migrates_and_rolls_back_from_the_command_line(
    database_url: str, tmp_path: Path
) -> None:
    """deploy twice, versions, diff, migrate (dry run, then real), rollback and deploy again."""
    runner = CliRunner()
    env = {"TRIGGER_WORKFLOW_DATABASE_URL": database_url}

    def run(*args: str, status: int = 0) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == status, result.output
        return result.output

    processes_dir, forms_dir = _copy_process(tmp_path)
    where = ("--processes-dir", str(processes_dir), "--forms-dir", str(forms_dir))
    run("init-db")
    assert "Deployed new version 1" in run("deploy", *where)
    assert "2 new cases" in run("demo", "--cases", "2")
    files = processes.read_process_files(processes_dir, forms_dir)
    ack = processes_dir / "acknowledgement.bpmn"
    ack.write_text(relabelled(files).files["acknowledgement.bpmn"], encoding="utf-8")
    assert "Deployed new version 2" in run("deploy", *where, "--as", "owen")

    listing = run("processes", "versions")
    assert "owen" in listing and "current" in listing.splitlines()[0]
    assert listing.splitlines()[0].split()[0] == "2"

    changes = run("processes", "diff", "1", "2")
    assert "changed user task 'Acknowledge the application' (acknowledge_application)" in changes
    assert "name: Acknowledge application → Acknowledge the application" in changes
    assert "acknowledgement.bpmn" in changes
    assert "no version 9" in run("processes", "diff", "1", "9", status=1)

    dry = run("processes", "migrate", "--from", "1", "--to", "2", "--dry-run")
    assert "can move from version 1 to 2" in dry
    real = run("processes", "migrate", "--from", "1", "--to", "2", "--as", "owen")
    assert "moved from version 1 to 2" in real
    assert "0 case(s) moved" not in real
    assert "0 case(s) can move" in run(
        "processes", "migrate", "--from", "1", "--to", "2", "--dry-run"
    )

    assert "New cases now take version 1" in run("processes", "rollback", "1", "--as", "owen")
    assert "already the one" in run("processes", "rollback", "1")
    listing = run("processes", "versions")
    assert "rollback version 1 by owen" in listing
    # Deploying version 2's content again makes it current again without a third version.
    assert "Made current again: version 2" in run("deploy", *where)
    assert "Already deployed: version 2" in run("deploy", *where)
