"""Two councils in one deployment, for the separation tests (issue 12).

Derby City (the test database's first authority, references CT-…) has the usual test officers;
Chesterfield (CHF-…) gets its own coordinator, chair, auditor, administrator, process owner and
a police officer of its own. The police officer pete and the OPCC's olu are county-wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.audit_cases import open_task
from tests.public_form import send_public
from tests.scenario import TEST_PASSWORD_HASH, CaseDriver, encode, form_schema
from trigger_workflow.samples import ANSWERS, APPLICATION
from trigger_workflow.services.accounts import actors, authorities
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Authority, Officer

CHESTERFIELD = authorities.AuthorityDetails(
    code="chesterfield",
    name="Chesterfield Borough Council",
    reference_prefix="CHF",
    address="Town Hall, Rose Hill, Chesterfield S40 1LP",
    email="asb@chesterfield.example.gov.uk",
    phone="01246 000000",
)
# Chesterfield's own staff: username, name, role, agency.
CHESTERFIELD_STAFF = [
    ("cath", "Cath Coordinator", "coordinator", "council"),
    ("chris", "Chris Chair", "chair", "independent"),
    ("abe", "Abe Auditor", "auditor", None),
    ("adele", "Adele Administrator", "administrator", None),
    ("paul", "Paul Owner", "process_owner", None),
    ("pat", "Pat Police", "partner", "police"),  # police, but serving Chesterfield only
]
COUNTY_WIDE = ("pete", "olu")
CHESTERFIELD_APPLICANT = "Chester Field-Applicant"


@dataclass(frozen=True)
class County:
    """The two authorities' ids."""

    derby: int
    chesterfield: int


def two_authorities(sessions: sessionmaker[Session]) -> County:
    """Add Chesterfield with its staff; make the police officer pete and the OPCC county-wide."""
    with sessions() as session:
        derby = authorities.default_authority(session).id
        session.commit()
        chesterfield = authorities.save(session, CHESTERFIELD).id
        for username, name, role, agency in CHESTERFIELD_STAFF:
            actors.add_officer(
                session, username, name, role, agency, TEST_PASSWORD_HASH,
                authority_id=chesterfield,
            )  # fmt: skip
        for username in COUNTY_WIDE:
            officer = actors.officer_account(session, username)
            authorities.set_officer_authority(session, officer, None, county_wide=True)
        session.commit()
    return County(derby, chesterfield)


def apply_online(client: FlaskClient, sessions: sessionmaker[Session], postcode: str) -> str:
    """Send the sample application through the public form, saying where; return its reference."""
    driver = CaseDriver(client, sessions)
    driver.sign_out()
    fields = [*encode(form_schema("submit_application.json"), APPLICATION)]
    fields.append(("where_postcode", postcode))
    response = send_public(client, fields)
    assert response.status_code == 302, response.text[:3000]
    done = client.get("/apply/done").text
    start = done.index('id="case-reference">') + len('id="case-reference">')
    return done[start : done.index("<", start)]


def chesterfield_case_in_review(session: Session, county: County) -> str:
    """Start a Chesterfield case through the services and take it to its review, shared with the
    police (its information request open); return its reference."""
    data: dict[str, Any] = {**APPLICATION, "applicant": {**APPLICATION["applicant"]}}
    data["applicant"]["name"] = CHESTERFIELD_APPLICANT
    result = cases.submit_application(
        session,
        cases.SubmitApplication(data, actors.PUBLIC, None, date.today(), county.chesterfield),
    )
    cath = actors.find_officer(session, "cath")
    for step in ("acknowledge_application", "record_complaints", "decide_threshold"):
        task = open_task(session, result.reference, step, None)
        cases.complete_task(
            session, cases.CompleteTask(result.reference, task, ANSWERS[step], cath)
        )
    task = open_task(session, result.reference, "choose_agencies", None)
    cases.complete_task(
        session, cases.CompleteTask(result.reference, task, {"agencies": ["police"]}, cath)
    )
    return result.reference


def authority_of(session: Session, reference_prefix: str) -> Authority:
    """Return the authority with this reference prefix."""
    found = session.scalar(select(Authority).where(Authority.reference_prefix == reference_prefix))
    assert found is not None
    return found


def officer(session: Session, username: str) -> Officer:
    """Return an officer row."""
    return actors.officer_account(session, username)


def post_form(client: FlaskClient, path: str, fields: list[tuple[str, str]]) -> Any:
    """Post a form with repeated fields."""
    return client.post(path, data=MultiDict(fields))
