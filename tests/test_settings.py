"""Settings: read from the environment, paths made absolute, a private secret key made once."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from trigger_workflow.settings import Settings


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    """TRIGGER_WORKFLOW_* variables set the fields; the SQLite file lives in the instance folder."""
    env = {
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(tmp_path),
        "TRIGGER_WORKFLOW_REFERENCE_PREFIX": "ASB",
    }
    settings = Settings.from_env(env)
    assert settings.reference_prefix == "ASB"
    assert settings.database_url == f"sqlite:///{tmp_path}/trigger_workflow.sqlite"


def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative assets folder means the same wherever Flask looks it up."""
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"TRIGGER_WORKFLOW_ASSETS_DIR": "node_modules/govuk"})
    assert settings.assets_dir == tmp_path / "node_modules" / "govuk"


@pytest.mark.parametrize("prefix", ["", "ct", "TOOLONGPREFIX", "C-T"])
def test_bad_reference_prefix_is_refused_at_start(prefix: str, tmp_path: Path) -> None:
    """A prefix that would not fit or read well stops the app starting, with the rule stated."""
    with pytest.raises(ValueError, match="1 to 8 capital letters"):
        Settings(instance_path=tmp_path, reference_prefix=prefix)


def test_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    """The generated key is reused by every later start and readable by its owner only."""
    first = Settings(instance_path=tmp_path).with_secret_key()
    second = Settings(instance_path=tmp_path).with_secret_key()
    assert len(first.secret_key) == 64
    assert first.secret_key == second.secret_key
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
