"""A case's stored workflow state is the library's own serialization, minus the specs."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, THRESHOLD_MET, CaseDriver
from trigger_workflow.engine import serialization
from trigger_workflow.services.tasks.records import load_workflow
from trigger_workflow.store.models import Case


@pytest.mark.today("2026-11-25")  # the sample incidents are within R9's six months of it
def test_dump_state_writes_the_librarys_dict_without_converting_the_specs(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """dump_state skips converting the specs (stored once per version), yet writes the same
    text as the library's to_dict with the specs taken out, after every step of a case."""
    case = CaseDriver(client, sessions)
    case.apply()
    steps = [
        ("Acknowledge application", ANSWERS["Acknowledge application"]),
        ("Record qualifying complaints", ANSWERS["Record qualifying complaints"]),
        ("Decide threshold", THRESHOLD_MET),
    ]
    for number in range(len(steps) + 1):
        with sessions() as session:
            row = session.scalar(select(Case).where(Case.reference == case.reference))
            assert row is not None
            workflow = load_workflow(row)
            library = serialization.SERIALIZER.to_dict(workflow)
            del library["spec"], library["subprocess_specs"]
            expected = json.dumps(
                library, cls=serialization.SERIALIZER._encoder_cls, separators=(",", ":")
            )
            assert row.workflow_state == expected  # what the last step stored
            assert serialization.dump_state(workflow) == expected
        if number < len(steps):
            case.complete(*steps[number])
