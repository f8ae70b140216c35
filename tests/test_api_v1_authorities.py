"""API clients in a county (issues 12 and 14): a client serves one council, like its officers, or
every council when county-wide; an authority's administrator manages only its own clients."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api_clients import call
from tests.authorities_helpers import (
    CHESTERFIELD_APPLICANT,
    chesterfield_case_in_review,
    two_authorities,
)
from tests.scenario import CaseDriver
from tests.test_authorities_access import DERBY_APPLICANT, _derby_case_in_review
from trigger_workflow.services.accounts import actors, api_clients, authorities
from trigger_workflow.store.models import ApiClient


def _issue(
    sessions: sessionmaker[Session],
    name: str,
    role: str,
    agency: str | None,
    authority_id: int | None,
    county_wide: bool = False,
) -> str:
    with sessions() as session:
        _, token = api_clients.issue(
            session, name, role, agency, 30, by="adam", authority_id=authority_id,
            county_wide=county_wide,
        )  # fmt: skip
    return token


@pytest.mark.today("2026-11-10")
def test_a_councils_api_client_reads_only_its_councils_cases(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22 and issue 12 through /api/v1: Chesterfield's coordinator system lists and reads
    Chesterfield's case and gets 404 for Derby City's; a county-wide police system reads both
    councils' cases shared with the police; Chesterfield's police system only Chesterfield's."""
    county = two_authorities(sessions)
    derby = _derby_case_in_review(client, sessions).reference
    with sessions() as session:
        chesterfield = chesterfield_case_in_review(session, county)
    clients = {
        "chesterfield-cms": _issue(sessions, "chesterfield-cms", "coordinator", "council",
                                   county.chesterfield),
        "county-police": _issue(sessions, "county-police", "partner", "police", None, True),
        "chesterfield-police": _issue(sessions, "chesterfield-police", "partner", "police",
                                      county.chesterfield),
        "derby-cms": _issue(sessions, "derby-cms", "coordinator", "council", county.derby),
    }  # fmt: skip
    expected = {
        "chesterfield-cms": {chesterfield},
        "county-police": {chesterfield, derby},
        "chesterfield-police": {chesterfield},
        "derby-cms": {derby},
    }
    api = app.test_client()
    for name, token in clients.items():
        listed = call(api, "GET", "/api/v1/cases", token)
        assert listed.status_code == 200, (name, listed.text)
        references = {row["reference"] for row in listed.json["items"]}
        assert references == expected[name], name
        for reference, applicant in (
            (derby, DERBY_APPLICANT),
            (chesterfield, CHESTERFIELD_APPLICANT),
        ):
            page = call(api, "GET", f"/api/v1/cases/{reference}", token)
            sees = reference in expected[name]
            assert page.status_code == (200 if sees else 404), (name, reference)
            assert (applicant in page.text) == sees, (name, reference)


@pytest.mark.today("2026-11-10")
def test_an_authoritys_administrator_manages_only_its_own_api_clients(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Chesterfield's administrator lists and revokes Chesterfield's clients only (Derby's is
    'not found' and stays active), may issue clients for Chesterfield but not county-wide ones;
    the county-wide administrator sees every client."""
    county = two_authorities(sessions)
    _issue(sessions, "derby-cms", "coordinator", "council", county.derby)
    _issue(sessions, "chesterfield-cms", "coordinator", "council", county.chesterfield)
    adele = app.test_client()
    CaseDriver(adele, sessions).act_as("adele")
    page = adele.get("/admin/api-clients").text
    assert "chesterfield-cms" in page and "derby-cms" not in page
    assert "Every council (county-wide)" not in page
    assert adele.post("/admin/api-clients/derby-cms/revoke").status_code == 404
    refused = adele.post(
        "/admin/api-clients",
        data={"name": "sneaky", "role": "coordinator", "agency": "council",
              "authority": "county-wide", "days": "30"},
    )  # fmt: skip
    assert refused.status_code == 422
    issued = adele.post(
        "/admin/api-clients",
        data={"name": "chesterfield-rms", "role": "partner", "agency": "police",
              "authority": "chesterfield", "days": "30"},
    )  # fmt: skip
    assert issued.status_code == 201
    with sessions() as session:
        clients = {c.name: c for c in session.query(ApiClient)}
        assert api_clients.state(clients["derby-cms"]) == "active"
        assert "sneaky" not in clients
        assert clients["chesterfield-rms"].authority_id == county.chesterfield
        assert clients["chesterfield-rms"].county_wide is False
    with sessions() as session:
        officer = actors.officer_account(session, "adam")
        authorities.set_officer_authority(session, officer, None, county_wide=True)
        session.commit()
    adam = app.test_client()
    CaseDriver(adam, sessions).act_as("adam")
    everyone = adam.get("/admin/api-clients").text
    assert all(name in everyone for name in ("derby-cms", "chesterfield-cms", "chesterfield-rms"))
    assert "Every council (county-wide)" in everyone


@pytest.mark.today("2026-11-10")
def test_a_councils_auditor_client_reads_only_its_councils_figures(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R20 per council through /api/v1/figures: Chesterfield's auditor system counts
    Chesterfield's application only; naming Derby City (not served) is refused (422); the
    county-wide auditor system's figures hold both, and per council they add up to it."""
    county = two_authorities(sessions)
    derby = _derby_case_in_review(client, sessions).reference
    with sessions() as session:
        chesterfield = chesterfield_case_in_review(session, county)
    with sessions() as session:
        derby_code = authorities.code_of(session, county.derby)
    own = _issue(sessions, "chesterfield-stats", "auditor", None, county.chesterfield)
    everyone = _issue(sessions, "county-stats", "auditor", None, None, county_wide=True)
    api = app.test_client()
    mine = call(api, "GET", "/api/v1/figures", own)
    assert mine.status_code == 200, mine.text
    assert mine.json["counts"]["applications"] == 1
    assert chesterfield in mine.text and derby not in mine.text
    refused = call(api, "GET", f"/api/v1/figures?authority={derby_code}", own)
    assert refused.status_code == 422
    assert derby not in refused.text
    whole = call(api, "GET", "/api/v1/figures", everyone).json
    parts = [
        call(api, "GET", f"/api/v1/figures?authority={code}", everyone).json
        for code in (derby_code, "chesterfield")
    ]
    assert whole["counts"]["applications"] == 2
    assert [part["counts"]["applications"] for part in parts] == [1, 1]
