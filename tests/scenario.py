"""Drive a case through HTTP the way officers and applicants do, checking state after each step."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.public_form import send_public
from trigger_workflow.engine import serialization
from trigger_workflow.samples import (
    AGENCY_OFFICER,
    APPLICATION,
    TEST_PASSWORD,
)
from trigger_workflow.samples import ANSWERS as SAMPLE_ANSWERS
from trigger_workflow.schema_forms import encode_form
from trigger_workflow.services.accounts import passwords
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case, Officer

# Cheap argon2 parameters, as the test app's settings use (see conftest.py).
TEST_PASSWORD_HASH = passwords.hash_password(
    TEST_PASSWORD, passwords.Hashing(time_cost=1, memory_kib=64)
)

FORMS = Path(__file__).resolve().parents[1] / "forms"

# The sample answers by task name, as the tests read (samples.py keys them by task id).
TASK_NAMES = {
    "acknowledge_application": "Acknowledge application",
    "record_complaints": "Record qualifying complaints",
    "choose_agencies": "Choose agencies",
    "answer_information_request": "Answer information request",
    "hold_review_meeting": "Hold review meeting",
    "send_outcome_notice": "Send outcome notice",
    "record_appeal": "Record appeal",
}
ANSWERS: dict[str, dict[str, Any]] = {
    TASK_NAMES[k]: v for k, v in SAMPLE_ANSWERS.items() if k in TASK_NAMES
}
THRESHOLD_MET = SAMPLE_ANSWERS["decide_threshold"]

ROLE_OF_TASK = {
    "Acknowledge application": "carol",
    "Record qualifying complaints": "carol",
    "Decide threshold": "carol",
    "Choose agencies": "carol",
    "Hold review meeting": "ingrid",
    "Send outcome notice": "carol",
    "Record appeal": "carol",
    "Decide appeal": "olu",
}


def form_schema(name: str) -> dict[str, Any]:
    """Return one of the project's forms."""
    return json.loads((FORMS / name).read_text())


encode = encode_form


class CaseDriver:
    """One case driven through the web pages, with the state checked after every step."""

    def __init__(self, client: FlaskClient, sessions: sessionmaker[Session]) -> None:
        self.client = client
        self.sessions = sessions
        self.reference = ""

    def act_as(self, username: str) -> None:
        """Sign in as this officer (with the test password): every following action is theirs.

        An officer a test added without a password is given the test password first.
        """
        with self.sessions() as session:
            officer = session.scalar(select(Officer).where(Officer.username == username))
            assert officer is not None, f"there is no officer {username!r}"
            if officer.password_hash is None:
                officer.password_hash = TEST_PASSWORD_HASH
                session.commit()
        response = self.client.post(
            "/sign-in", data={"username": username, "password": TEST_PASSWORD}
        )
        assert response.status_code == 302, response.text

    def sign_out(self) -> None:
        """Sign out, so that what follows is done by a member of the public."""
        response = self.client.post("/sign-out")
        assert response.status_code == 302, response.text

    def apply(self, data: dict[str, Any] | None = None) -> str:
        """Send an application through the public form; return the case reference."""
        self.sign_out()
        fields = encode(form_schema("submit_application.json"), data or APPLICATION)
        response = send_public(self.client, fields)
        assert response.status_code == 302, _errors(response.text)
        done = self.client.get("/apply/done")
        found = re.search(r'id="case-reference">([^<]+)<', done.text)
        assert found is not None
        self.reference = found.group(1)
        self.check_round_trip()
        return self.reference

    def advance_to(self, name: str) -> None:
        """Complete the main path's tasks, with the sample answers, until `name` is open."""
        for step in ("Acknowledge application", "Record qualifying complaints", "Decide threshold"):
            if step == name:
                return
            self.complete(step, THRESHOLD_MET if step == "Decide threshold" else ANSWERS[step])
        assert name == "Choose agencies", f"advance_to stops before a review task, not {name!r}"

    def case(self) -> dict[str, Any]:
        """Return the case as the JSON API shows it."""
        response = self.client.get(f"/api/cases/{self.reference}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json
        return result

    def open_tasks(self) -> list[str]:
        """Return the names of the case's open tasks, sorted."""
        return sorted(t["name"] for t in self.case()["open_tasks"])

    def complete(self, name: str, data: dict[str, Any], agency: str | None = None) -> None:
        """Complete an open task through its web page as the officer whose role it is."""
        self.act_as(AGENCY_OFFICER[agency] if agency else ROLE_OF_TASK[name])
        task = self.task_id(name, agency)
        page = self.client.get(f"/tasks/{task}")
        assert page.status_code == 200, page.text
        form = self._form_of(task)
        response = self.client.post(f"/tasks/{task}", data=MultiDict(encode(form, data)))
        assert response.status_code == 302, _errors(response.text)
        self.check_round_trip()

    def task_id(self, name: str, agency: str | None = None) -> str:
        """Return the id of the open task with this name (and agency)."""
        for task in self.case()["open_tasks"]:
            if task["name"] == name and (agency is None or task["agency"] == agency):
                return str(task["id"])
        raise AssertionError(f"no open task {name!r} ({agency}); open: {self.open_tasks()}")

    def _form_of(self, task_id: str) -> dict[str, Any]:
        task = next(t for t in self.case()["open_tasks"] if t["id"] == task_id)
        return form_schema(f"{task['task']}.json")

    def check_round_trip(self) -> None:
        """Assert the stored workflow state survives a restore and a new dump unchanged."""
        with self.sessions() as session:
            case = session.scalar(select(Case).where(Case.reference == self.reference))
            assert case is not None
            stored = json.loads(case.workflow_state)
            restored = load_workflow(case)
            assert json.loads(serialization.dump_state(restored)) == stored
            # The fast restore (specs shared per version) agrees with the library's own restore.
            slowly = serialization.load_state_slowly(
                case.workflow_state, case.process_version.spec, case.serializer_version
            )
            assert json.loads(serialization.dump_state(slowly)) == stored


def _errors(html: str) -> str:
    found = re.findall(r'govuk-error-message">\s*<span[^>]*>[^<]*</span>([^<]+)<', html)
    return "; ".join(found) or html[:2000]
