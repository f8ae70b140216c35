"""Demo data for a county: two more councils with their own staff and cases beside the first,
and county-wide police, health, OPCC and administrator, so the separation shows at once.

Chesterfield's coordinator (cath) sees only Chesterfield's cases, Amber Valley's (avery) only
Amber Valley's, Derby City's (carol) only Derby's; the county-wide police officer (pete) sees
every council's cases shared with the police.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow.engine import calendar
from trigger_workflow.samples import AGENCY_OFFICER
from trigger_workflow.services import demo
from trigger_workflow.services.accounts import actors, authorities
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Authority, Case, Officer

COUNCILS = [
    authorities.AuthorityDetails(
        code="chesterfield",
        name="Chesterfield Borough Council",
        reference_prefix="CHF",
        address="Town Hall, Rose Hill, Chesterfield S40 1LP",
        email="asb.casereview@chesterfield.example.gov.uk",
        phone="01246 000000",
    ),
    authorities.AuthorityDetails(
        code="amber-valley",
        name="Amber Valley Borough Council",
        reference_prefix="AMV",
        address="Town Hall, Market Place, Ripley DE5 3BT",
        email="asb.casereview@ambervalley.example.gov.uk",
        phone="01773 000000",
        threshold_number=2,  # a lower local threshold than the county's (R6)
    ),
]
# Each council's own staff: username, name, role, agency.
STAFF: dict[str, list[tuple[str, str, str, str | None]]] = {
    "chesterfield": [
        ("cath", "Cath Coordinator", "coordinator", "council"),
        ("abe", "Abe Auditor", "auditor", None),
    ],
    "amber-valley": [("avery", "Avery Coordinator", "coordinator", "council")],
}
COUNTY_WIDE = ("pete", "heath", "olu", "adam", "owen")  # police, health, the OPCC, the
# administrator and the process owner (who deploys the county's versions)
APPLICANTS: dict[str, list[tuple[str, str]]] = {
    "chesterfield": [
        ("Jordan Ellis", "S40 2AB"),
        ("Nia Clarke", "S41 7CD"),
        ("Ray Booth", "S41 0EF"),
    ],
    "amber-valley": [("Kim Hardy", "DE5 3GH"), ("Lee Turner", "DE56 1JK")],
}
# How far each of a council's cases goes: police-only reviews (its housing is not staffed here).
STOPS = [4, 1, 5]


def load(session: Session, password_hash: str | None = None) -> list[str]:
    """Add the councils, their staff and their cases (once); make the partners county-wide."""
    created: list[str] = []
    # County-wide first: the councils' reviews ask the police, who must serve them (R14).
    for username in COUNTY_WIDE:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        if officer is not None and not officer.county_wide:
            authorities.set_officer_authority(session, officer, None, county_wide=True)
    session.commit()
    for details in COUNCILS:
        authority = session.scalar(select(Authority).where(Authority.code == details.code))
        if authority is None:
            authority = authorities.save(session, details)
        for username, name, role, agency in STAFF[details.code]:
            if session.scalar(select(Officer).where(Officer.username == username)) is None:
                actors.add_officer(
                    session, username, name, role, agency, password_hash,
                    authority_id=authority.id,
                )  # fmt: skip
        has_cases = session.scalar(
            select(func.count()).select_from(Case).where(Case.authority_id == authority.id)
        )
        if not has_cases:
            created += _cases(session, authority, STAFF[details.code][0][0])
    return created


def _cases(session: Session, authority: Authority, coordinator: str) -> list[str]:
    actor = actors.find_officer(session, coordinator)
    plan = [
        (spec, {"agencies": ["police"]} if spec == "choose_agencies" else answers, agency)
        for spec, answers, agency in demo.PLAN
        if agency != "housing"
    ]
    made = []
    for index, (name, postcode) in enumerate(APPLICANTS[authority.code]):
        received = calendar.today() - timedelta(days=3 * index + 1)
        data = demo.application(name, postcode, received)
        data["applicant"]["address"] = f"{4 + index} Example Street, {authority.name.split()[0]}"
        result = cases.submit_application(
            session,
            cases.SubmitApplication(data, actors.PUBLIC, None, received, authority.id),
        )
        ack = dict(demo.ACK, named_contact=actor.display_name, acknowledged_on=received.isoformat())
        for spec_name, answers, agency in plan[: STOPS[index % len(STOPS)]]:
            who = actors.find_officer(session, AGENCY_OFFICER[agency]) if agency else actor
            task = demo.open_task(session, result.reference, spec_name, agency)
            given = ack if spec_name == "acknowledge_application" else answers
            cases.complete_task(session, cases.CompleteTask(result.reference, task, given, who))
        made.append(result.reference)
    return made
