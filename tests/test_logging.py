"""Logs: JSON lines on standard error from the real gunicorn (the Dockerfile's command), with
administrators' changes and sign-ins in them, and no query strings (no applicants' names)."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.orm import Session

from tests.audit_cases import MET, run_case
from trigger_workflow import logs
from trigger_workflow.samples import TEST_PASSWORD

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _listening_socket() -> socket.socket:
    """Bind and listen on a free loopback port here, for gunicorn to take over (``fd://``): no
    other process (a parallel test worker) can take the port between choosing and binding it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.set_inheritable(True)
    return listener


def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn stopped"
        try:
            if requests.get(base + "/healthz", timeout=20).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer /healthz within 30 s")


def _post(browser: requests.Session, url: str, data: dict[str, str]) -> requests.Response:
    page = browser.get(url.rsplit("/", 1)[0] if "disabled" in url else url, timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return browser.post(url, data={**data, "csrf_token": token.group(1)}, timeout=10)


def test_gunicorn_writes_json_lines_with_admin_changes_and_no_query_strings(
    database_url: str, deployed: object, tmp_path: Path
) -> None:
    """Under gunicorn with the project's config: every line on stderr is JSON; a sign-in, a
    failed sign-in and an administrator disabling an officer are there with who did it; the
    access log has the path of a case search but not the applicant's name typed into it."""
    listener = _listening_socket()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {
        **os.environ,
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_SECRET_KEY": "log-test-secret",
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRIGGER_WORKFLOW_ARGON2_TIME_COST": "1",
        "TRIGGER_WORKFLOW_ARGON2_MEMORY_KIB": "64",
        "TRIGGER_WORKFLOW_BIND": f"fd://{listener.fileno()}",
        "TRIGGER_WORKFLOW_WORKERS": "1",
    }
    stderr_path, stdout_path = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with listener, stderr_path.open("wb") as stderr, stdout_path.open("wb") as stdout:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "python:trigger_workflow.gunicorn_config",
             "trigger_workflow.app:create_app()"],
            env=env, stdout=stdout, stderr=stderr, pass_fds=[listener.fileno()],
        )  # fmt: skip
        try:
            _wait_for(base, server)
            browser = requests.Session()
            wrong = {"username": "carol", "password": "not the password"}
            assert _post(browser, base + "/sign-in", wrong).status_code == 401
            signed = _post(
                browser, base + "/sign-in", {"username": "adam", "password": TEST_PASSWORD}
            )
            assert signed.status_code == 200 and "Signed in as" in signed.text
            disabled = _post(browser, base + "/admin/officers/olu/disabled", {"disabled": "true"})
            assert disabled.status_code == 200 and "olu is disabled" in disabled.text
            browser.get(base + "/cases", params={"q": "Margaret Thistlewood"}, timeout=10)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    assert stdout_path.read_text() == ""
    lines = [line for line in stderr_path.read_text().splitlines() if line.strip()]
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]  # each line is JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    security = [r for r in records if r["logger"] == "trigger_workflow.security"]
    assert [(r.get("event"), r.get("actor"), r.get("subject")) for r in security] == [
        ("sign_in_failed", "carol", "carol"),
        ("signed_in", "adam", "adam"),
        ("officer_disabled", "adam", "olu"),
    ]
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    search = [r for r in access if r["path"] == "/cases"]
    assert search and search[0]["method"] == "GET" and search[0]["status"] == "403"
    assert "Thistlewood" not in stderr_path.read_text()
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )


def test_development_server_lines_lose_their_query_strings() -> None:
    """`trigger-workflow serve` (werkzeug) logs request lines without their query strings."""
    record = logging.makeLogRecord(
        {
            "name": "werkzeug",
            "msg": '127.0.0.1 - - [24/Nov/2026 09:00:00] "%s" %s %s',
            "args": ("GET /cases?q=Margaret+Thistlewood HTTP/1.1", "200", "-"),
        }
    )
    assert logs.StripQueryStrings().filter(record)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == '127.0.0.1 - - [24/Nov/2026 09:00:00] "GET /cases HTTP/1.1" 200 -'


def test_worker_and_commands_log_json_lines(tmp_path: Path) -> None:
    """The worker (any trigger-workflow command) logs JSON lines to standard error too."""
    url = f"sqlite:///{tmp_path / 'worker.sqlite'}"
    env = {**os.environ, "TRIGGER_WORKFLOW_DATABASE_URL": url}
    command = Path(sys.executable).with_name("trigger-workflow")
    subprocess.run([str(command), "init-db"], env=env, check=True, capture_output=True)
    script = (
        "import logging, sys; from trigger_workflow.cli import main; "
        "sys.argv = ['trigger-workflow', 'worker', '--once']"
    )
    result = subprocess.run(
        [sys.executable, "-c", script + "\ntry:\n main()\nexcept SystemExit: pass\n"
         "logging.getLogger('trigger_workflow.timers').warning('done', extra={'case': 8})"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1]["message"] == "done" and lines[-1]["case"] == 8
    assert lines[-1]["level"] == "WARNING" and lines[-1]["logger"] == "trigger_workflow.timers"


def test_no_case_data_in_the_logs_of_a_replay(
    database_url: str, deployed: object, session: Session
) -> None:
    """Issue 13: the engine's own log lines (each task's state, with its data) are not written:
    replaying a case on the command line logs nothing of the applicant's."""
    reference = run_case(session, MET)
    env = {**os.environ, "TRIGGER_WORKFLOW_DATABASE_URL": database_url}
    command = Path(sys.executable).with_name("trigger-workflow")
    result = subprocess.run(
        [str(command), "audit", "replay", reference],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "replay matches the stored state" in result.stdout
    for value in ("Alex Applicant", "alex@example.org", "DE1 1AA", "Loud music"):
        assert value not in result.stderr + result.stdout


def test_the_deployment_files_run_what_these_tests_run() -> None:
    """The Dockerfile and docker-compose.yml start gunicorn with the config tested above and
    check /healthz."""
    root = Path(__file__).resolve().parents[1]
    for name in ("Dockerfile", "docker-compose.yml"):
        text = (root / name).read_text()
        assert "-c python:trigger_workflow.gunicorn_config" in text.replace('", "', " "), name
        assert "/healthz" in text, name
