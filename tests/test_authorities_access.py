"""Who sees what in a county (issue 12): each council's staff see only its cases, tasks, letters,
figures and officers; county-wide partners see every council's cases shared with their agency.

Derby City's case is at its review (police and housing asked); Chesterfield's staff try every
route of the app with Derby's ids and get 403 or 404, read nothing of it, and change nothing.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.authorities_helpers import (
    CHESTERFIELD_APPLICANT,
    CHESTERFIELD_STAFF,
    apply_online,
    chesterfield_case_in_review,
    two_authorities,
)
from tests.scenario import ANSWERS, CaseDriver
from tests.test_access_matrix import MATRIX, _first_letter_id
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import definitions
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import (
    Authority,
    Case,
    Event,
    Letter,
    Officer,
    OpenTask,
    OutboxMessage,
)

DERBY_APPLICANT = APPLICATION["applicant"]["name"]


def _derby_case_in_review(client: FlaskClient, sessions: sessionmaker[Session]) -> CaseDriver:
    case = CaseDriver(client, sessions)
    case.reference = apply_online(client, sessions, "DE1 2FS")
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    return case


def _text(body: bytes) -> str:
    """Return the main message of a page, for a failure's report."""
    text = body.decode("utf-8", "replace")
    start = text.find("<main")
    return " ".join(re.sub(r"<[^>]+>", " ", text[start : start + 3000]).split())[:300]


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Everything a request could change about Derby's case, its letters and its staff (each
    table's rows sorted: PostgreSQL returns rows in no set order, and an allowed change to
    another column, such as an officer's own notification settings, moves a row)."""
    with sessions() as session:
        tables = {
            "cases": session.execute(
                select(Case.reference, Case.lock_version, Case.status, Case.stage)
            ).all(),
            "events": session.execute(select(Event.case_id, Event.seq, Event.kind)).all(),
            "tasks": session.execute(select(OpenTask.id, OpenTask.assignee)).all(),
            "letters": session.execute(select(Letter.id)).all(),
            "outbox": session.execute(select(OutboxMessage.id, OutboxMessage.status)).all(),
            "officers": session.execute(
                select(
                    Officer.username,
                    Officer.role,
                    Officer.disabled,
                    Officer.password_hash,
                    Officer.authority_id,
                    Officer.county_wide,
                )
            ).all(),
            "authorities": session.execute(
                select(Authority.code, Authority.name, Authority.threshold_number)
            ).all(),
        }
        return {name: sorted(rows, key=repr) for name, rows in tables.items()}


@pytest.mark.parametrize("username", [u for u, *_ in CHESTERFIELD_STAFF])
def test_another_councils_staff_get_nothing_of_a_case_on_any_route(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session], username: str
) -> None:
    """Every route of the app (its url_map, as the access matrix lists it), tried by one of
    Chesterfield's staff with Derby City's case, task, letter, officer and authority: refused
    (403) or not there (404), Derby's reference and applicant never shown, nothing changed."""
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes == set(MATRIX), "every route is tried"
    two_authorities(sessions)
    case = _derby_case_in_review(client, sessions)
    values = {
        "reference": case.reference,
        "police_task": case.task_id("Answer information request", "police"),
        "letter": str(_first_letter_id(sessions)),
    }
    with sessions() as session:
        actors.add_officer(session, "zed", "Zed Spare", "coordinator", "council")
    derby_ids = (case.reference, values["police_task"], "/zed", "derby-city")
    before = _snapshot(sessions)
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as(username)
    leaked, answered = [], {}
    for (method, rule), probe in MATRIX.items():
        if rule == "/sign-out":
            continue
        path = probe.path.format(**values)
        response = visitor.open(path, method=method, data=probe.data, json=probe.json)
        body = response.get_data()
        response.close()
        # A refusal may repeat the reference the visitor typed in its path, nothing more.
        echoed = case.reference in path and response.status_code in (403, 404)
        told = case.reference.encode() in body and not echoed
        if told or DERBY_APPLICANT.encode() in body or b"DE1 1AA" in body:
            leaked.append(f"{method} {rule} {response.status_code} {_text(body)}")
        if any(i in path for i in derby_ids):
            answered[f"{method} {path}"] = response.status_code
    assert leaked == []
    assert {k: v for k, v in answered.items() if v not in (403, 404)} == {}
    assert len(answered) >= 20
    assert _snapshot(sessions) == before


@pytest.mark.parametrize(
    ("username", "sees_derby", "sees_chesterfield"),
    [
        ("carol", True, False),  # Derby's coordinator
        ("ada", True, False),  # Derby's auditor
        ("cath", False, True),  # Chesterfield's coordinator
        ("abe", False, True),  # Chesterfield's auditor
        ("pat", False, True),  # Chesterfield's own police officer: its shared case only
        ("pete", True, True),  # county-wide police: both councils' cases shared with police
        ("olu", True, True),  # the county's OPCC
        ("hana", False, False),  # Derby's housing officer: Derby's case is shared with housing…
    ],
)
def test_each_officer_sees_the_cases_of_their_authorities_only(
    app: Flask,
    client: FlaskClient,
    sessions: sessionmaker[Session],
    username: str,
    sees_derby: bool,
    sees_chesterfield: bool,
) -> None:
    """R22 and issue 12: the case list, the case page and the inbox show a council's case only
    to its own staff and to county-wide partners it is shared with."""
    county = two_authorities(sessions)
    derby = _derby_case_in_review(client, sessions)
    with sessions() as session:
        chesterfield = chesterfield_case_in_review(session, county)
    if username == "hana":  # …so she sees it: housing was chosen for Derby's review
        sees_derby = True
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as(username)
    listed = visitor.get("/cases").text if username not in ("ada", "abe") else ""
    audit = visitor.get("/audit/").text if username in ("ada", "abe") else ""
    for reference, applicant, sees in (
        (derby.reference, DERBY_APPLICANT, sees_derby),
        (chesterfield, CHESTERFIELD_APPLICANT, sees_chesterfield),
    ):
        page = visitor.get(f"/cases/{reference}")
        assert page.status_code == (200 if sees else 404), (username, reference)
        assert (reference in listed + audit) == sees, (username, reference)
        assert (applicant in page.text) == sees
    if username in ("pat", "pete"):
        inbox = visitor.get("/tasks").text
        assert (chesterfield in inbox) is True
        assert (derby.reference in inbox) == (username == "pete")


def test_a_coordinator_inbox_and_print_queue_hold_only_their_councils_work(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Derby's coordinator's inbox and print queue hold Derby's tasks and letters; Chesterfield's
    hold Chesterfield's; the counts agree."""
    county = two_authorities(sessions)
    with sessions() as session:
        derby, chesterfield = (
            cases.submit_application(
                session, cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, None, place)
            ).reference
            for place in (county.derby, county.chesterfield)
        )
    for username, own, other in (("carol", derby, chesterfield), ("cath", chesterfield, derby)):
        visitor = app.test_client()
        CaseDriver(visitor, sessions).act_as(username)
        inbox = visitor.get("/tasks?view=team").text
        assert own in inbox and other not in inbox, username
        outbox = visitor.get("/outbox").text
        assert other not in outbox, username


def test_an_authoritys_administrator_manages_only_its_staff_and_cannot_add_an_authority(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Chesterfield's administrator lists Chesterfield's officers, is told Derby's do not exist,
    may change Chesterfield's details but add no authority; a county-wide administrator adds one
    and gives an officer a second authority by grant."""
    two_authorities(sessions)
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as("adele")
    listing = visitor.get("/admin/officers").text
    assert "cath" in listing and "carol" not in listing
    assert visitor.get("/admin/officers/carol").status_code == 404
    assert visitor.get("/admin/authorities/derby-city").status_code == 404
    authority_list = visitor.get("/admin/authorities").text
    assert "Chesterfield Borough Council" in authority_list
    assert ">Derby City Council</a>" not in authority_list
    assert visitor.post("/admin/authorities", data={"name": "X"}).status_code == 403
    refused = visitor.post(
        "/admin/authorities/chesterfield",
        data={"name": "Chesterfield Borough Council", "code": "chesterfield",
              "reference_prefix": "CHF", "threshold_number": "5", "agencies_follow": "yes"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "the Act allows no more than 3" in refused.text
    with sessions() as session:
        officer = actors.officer_account(session, "adam")
        officer.county_wide, officer.authority_id = True, None
        session.commit()
    county_admin = app.test_client()
    CaseDriver(county_admin, sessions).act_as("adam")
    added = county_admin.post(
        "/admin/authorities",
        data={"name": "Bolsover District Council", "code": "bolsover", "reference_prefix": "BOL",
              "threshold_number": "", "agencies_follow": "yes", "process_version": ""},
    )  # fmt: skip
    assert added.status_code == 302, added.text[:2000]
    granted = county_admin.post(
        "/admin/officers/cath/authority",
        data={"authority": "chesterfield", "grants": ["bolsover"]},
    )
    assert granted.status_code == 302
    assert "Chesterfield Borough Council, Bolsover District Council" in (
        county_admin.get("/admin/officers/cath").text
    )


@pytest.mark.today("2026-11-10")
def test_the_public_form_sends_an_application_to_the_council_its_postcode_is_in(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A Chesterfield postcode makes a CHF case; a postcode on a boundary asks which council;
    a postcode that is not one is refused in words and the page asks again."""
    two_authorities(sessions)
    assert apply_online(client, sessions, "S40 1LP").startswith("CHF-2026-")
    visitor = app.test_client()
    visitor.get("/apply")
    bad = visitor.post("/apply/where", data={"where_postcode": "not a postcode"})
    assert bad.status_code == 422 and "Enter a real postcode, like DE1 2FS" in bad.text
    # S43 spans Chesterfield and Bolsover; only Chesterfield is served here, so it goes there.
    assert visitor.post("/apply/where", data={"where_postcode": "S43 3AB"}).status_code == 302
    visitor.get("/apply/where?change=1")
    boundary = visitor.post("/apply/where", data={"where_postcode": "SK17 6XN"})
    assert boundary.status_code == 200
    assert "Which council" in boundary.text and "Chesterfield Borough Council" in boundary.text
    chosen = visitor.post("/apply/where", data={"where_authority": "chesterfield"})
    assert chosen.status_code == 302
    assert visitor.get("/apply/check").status_code == 200
    assert "Chesterfield Borough Council" in visitor.get("/apply/check").text


def test_an_officer_serving_two_councils_chooses_which_an_application_is_for(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    """A coordinator granted a second council is asked which one; one serving one is not."""
    county = two_authorities(sessions)
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as("cath")
    assert "Which council is the application for?" not in visitor.get("/cases/new").text
    with sessions() as session:
        from trigger_workflow.services.accounts import authorities

        authorities.set_officer_authority(
            session, actors.officer_account(session, "cath"), "chesterfield",
            grants=["derby-city"],
        )  # fmt: skip
        session.commit()
    CaseDriver(visitor, sessions).act_as("cath")
    page = visitor.get("/cases/new").text
    assert "Which council is the application for?" in page
    assert "Derby City Council" in page and county.derby != county.chesterfield


@pytest.mark.today("2026-11-10")
def test_figures_per_authority_add_up_to_the_county(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R20: each council's figures count its own applications; a county-wide auditor's figures
    are the sum of the councils' (the same cases, counted once); a council's auditor cannot ask
    for another council's figures."""
    county = two_authorities(sessions)
    derby = _derby_case_in_review(client, sessions)
    with sessions() as session:
        chesterfield = chesterfield_case_in_review(session, county)
        officer = actors.officer_account(session, "ada")
        officer.county_wide, officer.authority_id = True, None
        session.commit()
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as("ada")
    counted = {
        name: _figures(visitor.get(f"/audit/figures.csv{query}").text)
        for name, query in (
            ("county", ""),
            ("derby", "?authority=derby-city"),
            ("chesterfield", "?authority=chesterfield"),
        )
    }
    assert counted["county"]["applications"] == 2
    assert counted["derby"]["applications"] == counted["chesterfield"]["applications"] == 1
    for figure, total in counted["county"].items():
        assert total == counted["derby"][figure] + counted["chesterfield"][figure], figure
    listed = visitor.get("/audit/figures/applications?authority=chesterfield").text
    assert chesterfield in listed and derby.reference not in listed
    abe = app.test_client()
    CaseDriver(abe, sessions).act_as("abe")
    assert abe.get("/audit/figures.csv?authority=derby-city").status_code == 404
    own = _figures(abe.get("/audit/figures.csv").text)
    assert own == counted["chesterfield"]


@pytest.mark.today("2026-11-10")
def test_coordinators_read_their_councils_figures_and_the_opcc_the_countys(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R20: Chesterfield's coordinator reads Chesterfield's figures and the cases behind them,
    never Derby's; the county-wide OPCC reads the roll-up of both councils (the sum of theirs)
    and each council's, and the year's report, but not which cases a figure counts."""
    county = two_authorities(sessions)
    derby = _derby_case_in_review(client, sessions)
    with sessions() as session:
        chesterfield = chesterfield_case_in_review(session, county)
    cath = app.test_client()
    CaseDriver(cath, sessions).act_as("cath")
    assert 'href="/audit/figures"' in cath.get("/tasks").text  # in the coordinator's menu
    own = _figures(cath.get("/audit/figures.csv").text)
    assert own["applications"] == 1
    assert cath.get("/audit/figures.csv?authority=derby-city").status_code == 404
    listed = cath.get("/audit/figures/applications").text
    assert chesterfield in listed and derby.reference not in listed
    assert cath.get("/audit/report").status_code == 200
    assert cath.get(f"/audit/cases/{chesterfield}").status_code == 403  # histories: auditors'
    olu = app.test_client()
    CaseDriver(olu, sessions).act_as("olu")
    page = olu.get("/audit/figures")
    assert page.status_code == 200 and "/audit/figures/applications" not in page.text
    csv_text = olu.get("/audit/figures.csv").text
    rolled_up = _figures(csv_text)
    assert rolled_up["applications"] == 2
    assert chesterfield not in csv_text and derby.reference not in csv_text
    each = [_figures(olu.get(f"/audit/figures.csv?authority={c}").text) for c in (
        "derby-city", "chesterfield")]  # fmt: skip
    for figure, total in rolled_up.items():
        assert total == sum(council[figure] for council in each), figure
    assert each[1] == own
    assert olu.get("/audit/figures/applications").status_code == 403
    report = olu.get("/audit/report")
    assert report.status_code == 200 and "Chesterfield Borough Council" in report.text
    assert olu.get("/audit/").status_code == 403


def _figures(text: str) -> dict[str, int]:
    """Return each figure's count from the figures CSV, by its key."""
    titles = {title: key for key, title in definitions.FIGURES.items()}
    found = {}
    for row in csv.reader(io.StringIO(text)):
        if row and row[0] in titles:
            found[titles[row[0]]] = int(row[1])
    assert set(found) == set(definitions.FIGURES)
    return found
