"""Access control on every route: each role against each page and action, allowed or refused.

The case under test is at its multi-agency review: the coordinator chose police and housing, so
each has an information request open. The police officer takes part; the health officer does
not, and is told the case and its tasks do not exist (404). Roles that see no cases (process
owner, administrator) get 403; visitors who are not signed in are sent to sign in (302), or get
401 from the JSON API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from trigger_workflow.services.accounts import actors
from trigger_workflow.store.models import Letter

# Who asks, and the demo officer they sign in as (None: not signed in).
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "applicant": None,  # a member of the public who has just sent an application
    "coordinator": "carol",
    "partner_in": "pete",  # police: chosen for this case's review
    "partner_out": "heath",  # health: not part of this case
    "chair": "ingrid",
    "opcc": "olu",
    "process_owner": "owen",
    "auditor": "ada",
    "administrator": "adam",
}


def row(*statuses: int) -> dict[str, int]:
    """Return expected statuses in the order of ROLES."""
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses, strict=True))


def everyone(status: int) -> dict[str, int]:
    """Return the same expected status for every role."""
    return dict.fromkeys(ROLES, status)


#                   anon applicant coord p_in p_out chair opcc owner audit admin
ADMIN_PAGE = row(302, 302, 403, 403, 403, 403, 403, 403, 403, 200)
ADMIN_ACTION = row(302, 302, 403, 403, 403, 403, 403, 403, 403, 422)
NOT_COUNTY_WIDE = row(302, 302, 403, 403, 403, 403, 403, 403, 403, 403)
OFFICER_PAGE = row(302, 302, 200, 200, 200, 200, 200, 200, 200, 200)
CASE_LIST = row(302, 302, 200, 200, 200, 200, 200, 403, 200, 403)
CASE_PAGE = row(302, 302, 200, 200, 404, 200, 200, 403, 200, 403)
POLICE_TASK = row(302, 302, 403, 200, 404, 403, 403, 403, 403, 403)
POLICE_TASK_POST = row(302, 302, 403, 422, 404, 403, 403, 403, 403, 403)
NEW_APPLICATION = row(302, 302, 200, 403, 403, 403, 403, 403, 403, 403)
NEW_APPLICATION_POST = row(302, 302, 422, 403, 403, 403, 403, 403, 403, 403)
API_CASE = row(401, 401, 200, 200, 404, 200, 200, 403, 200, 403)
API_COMPLETE = row(401, 401, 403, 422, 404, 403, 403, 403, 403, 403)
API_CASE_LIST = row(401, 401, 200, 200, 200, 200, 200, 403, 200, 403)
API_TASKS = row(401, 401, 200, 200, 200, 200, 200, 200, 200, 200)
API_CLAIM = row(401, 401, 403, 200, 404, 403, 403, 403, 403, 403)
AUDITOR_PAGE = row(302, 302, 403, 403, 403, 403, 403, 403, 200, 403)
# The statutory figures and the year's report (R20): auditors, coordinators and the OPCC; the
# cases behind a figure: auditors and coordinators.
FIGURES_PAGE = row(302, 302, 200, 403, 403, 403, 200, 403, 200, 403)
FIGURE_CASES_PAGE = row(302, 302, 200, 403, 403, 403, 403, 403, 200, 403)
SECURITY_LOG = row(302, 302, 403, 403, 403, 403, 403, 403, 200, 200)
# Subject access requests (issue 13): auditors and administrators, over their own authorities'
# cases; a search or an export with no details is refused as incomplete.
SUBJECT_ACCESS_PAGE = row(302, 302, 403, 403, 403, 403, 403, 403, 200, 200)
SUBJECT_ACCESS_POST = row(302, 302, 403, 403, 403, 403, 403, 403, 422, 422)
PROCESS_OWNER_PAGE = row(302, 302, 403, 403, 403, 403, 403, 200, 403, 403)


@dataclass(frozen=True)
class Probe:
    """One request to make against a route, and what each role should get."""

    path: str
    expected: dict[str, int]
    data: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


# Every (method, rule) of the app. A route another branch adds fails
# test_every_route_is_in_the_matrix until it is classified here.
MATRIX: dict[tuple[str, str], Probe] = {
    ("GET", "/static/<path:filename>"): Probe("/static/none.css", everyone(404)),
    ("GET", "/govuk/<path:filename>"): Probe("/govuk/govuk-frontend.min.css", everyone(200)),
    ("GET", "/assets/<path:filename>"): Probe("/assets/images/favicon.ico", everyone(200)),
    ("GET", "/"): Probe("/", everyone(200)),
    # /apply starts a draft and sends its pages on; a page posted empty is shown with its errors;
    # sending an incomplete draft goes to the page with the first problem.
    ("GET", "/apply"): Probe("/apply", everyone(302)),
    ("GET", "/apply/<page_id>"): Probe("/apply/who", everyone(200)),
    ("POST", "/apply/<page_id>"): Probe("/apply/who", everyone(422), data={}),
    # Where the behaviour happens (a county's first question): a postcode is needed.
    ("GET", "/apply/where"): Probe("/apply/where", everyone(200)),
    ("POST", "/apply/where"): Probe("/apply/where", everyone(422), data={}),
    ("GET", "/apply/check"): Probe("/apply/check", everyone(200)),
    ("POST", "/apply/check"): Probe("/apply/check", everyone(302), data={}),
    ("GET", "/apply/done"): Probe("/apply/done", row(404, 200, *[404] * 8)),
    # Track your case (issue 14): public; without a reference or code it goes back to the start.
    ("GET", "/track"): Probe("/track", everyone(200)),
    ("POST", "/track"): Probe("/track", everyone(422), data={}),
    ("GET", "/track/code"): Probe("/track/code", everyone(302)),
    ("POST", "/track/code"): Probe("/track/code", everyone(302), data={}),
    ("GET", "/track/case"): Probe("/track/case", everyone(302)),
    ("GET", "/track/letters/<int:letter_id>"): Probe("/track/letters/{letter}", everyone(404)),
    ("POST", "/track/finish"): Probe("/track/finish", everyone(302), data={}),
    # GOV.UK Notify's delivery receipts: only with the callback's bearer token.
    ("POST", "/notify/receipts"): Probe("/notify/receipts", everyone(401), json={}),
    # Every officer's own notification settings.
    ("GET", "/account/notifications"): Probe("/account/notifications", OFFICER_PAGE),
    ("POST", "/account/notifications"): Probe(
        "/account/notifications", everyone(302), data={"task_emails": "no"}
    ),
    ("GET", "/sign-in"): Probe("/sign-in", everyone(200)),
    ("POST", "/sign-in"): Probe("/sign-in", everyone(401), data={"username": "x"}),
    # Single sign-on is not configured in the test app (tests/test_oidc.py covers it).
    ("GET", "/sign-in/oidc"): Probe("/sign-in/oidc", everyone(404)),
    ("GET", "/sign-in/oidc/callback"): Probe("/sign-in/oidc/callback", everyone(404)),
    ("GET", "/admin/officers"): Probe("/admin/officers", ADMIN_PAGE),
    ("POST", "/admin/officers"): Probe("/admin/officers", ADMIN_ACTION, data={}),
    ("GET", "/admin/officers/<username>"): Probe("/admin/officers/zed", ADMIN_PAGE),
    ("POST", "/admin/officers/<username>"): Probe("/admin/officers/zed", ADMIN_ACTION, data={}),
    ("POST", "/admin/officers/<username>/password"): Probe(
        "/admin/officers/zed/password", ADMIN_ACTION, data={"password": "short"}
    ),
    ("POST", "/admin/officers/<username>/disabled"): Probe(
        "/admin/officers/zed/disabled",
        row(302, 302, 403, 403, 403, 403, 403, 403, 403, 302),
        data={"disabled": "true"},
    ),
    ("POST", "/admin/officers/<username>/unlock"): Probe(
        "/admin/officers/zed/unlock", row(302, 302, 403, 403, 403, 403, 403, 403, 403, 302), data={}
    ),
    # Authorities: the administrator serves one (so may change it, not add another).
    ("GET", "/admin/authorities"): Probe("/admin/authorities", ADMIN_PAGE),
    ("POST", "/admin/authorities"): Probe("/admin/authorities", NOT_COUNTY_WIDE, data={}),
    ("GET", "/admin/authorities/new"): Probe("/admin/authorities/new", NOT_COUNTY_WIDE),
    ("GET", "/admin/authorities/<code>"): Probe("/admin/authorities/derby-city", ADMIN_PAGE),
    ("POST", "/admin/authorities/<code>"): Probe(
        "/admin/authorities/derby-city", ADMIN_ACTION, data={}
    ),
    ("POST", "/admin/officers/<username>/authority"): Probe(
        "/admin/officers/zed/authority",
        row(302, 302, 403, 403, 403, 403, 403, 403, 403, 302),
        data={},
    ),
    ("GET", "/tasks"): Probe("/tasks", OFFICER_PAGE),
    ("GET", "/tasks/<task_id>"): Probe("/tasks/{police_task}", POLICE_TASK),
    ("POST", "/tasks/<task_id>"): Probe("/tasks/{police_task}", POLICE_TASK_POST, data={}),
    # Claiming the police request: police in the case may; health is told it does not exist.
    ("POST", "/tasks/<task_id>/claim"): Probe(
        "/tasks/{police_task}/claim", row(302, 302, 403, 302, 404, 403, 403, 403, 403, 403), data={}
    ),
    # Releasing: the police officer has just claimed it (the row above) and may give it back;
    # nobody else holds it, so nobody else may release it.
    ("POST", "/tasks/<task_id>/release"): Probe(
        "/tasks/{police_task}/release",
        row(302, 302, 403, 302, 404, 403, 403, 403, 403, 403),
        data={},
    ),
    ("GET", "/tasks/<task_id>/reassign"): Probe(
        "/tasks/{police_task}/reassign", row(302, 302, 200, 403, 403, 403, 403, 403, 403, 403)
    ),
    # Reassigning with nobody chosen: the coordinator's request is refused as incomplete.
    ("POST", "/tasks/<task_id>/reassign"): Probe(
        "/tasks/{police_task}/reassign",
        row(302, 302, 400, 403, 403, 403, 403, 403, 403, 403),
        data={},
    ),
    ("GET", "/cases"): Probe("/cases", CASE_LIST),
    ("GET", "/cases/<reference>"): Probe("/cases/{reference}", CASE_PAGE),
    ("GET", "/cases/new"): Probe("/cases/new", NEW_APPLICATION),
    # Erasure on request (issue 13): the administrator of the case's authority; a request with
    # no person chosen and no reason is refused (tests/test_erasure_requests.py erases).
    ("GET", "/admin/erasure"): Probe("/admin/erasure", ADMIN_PAGE),
    ("GET", "/cases/<reference>/erase"): Probe("/cases/{reference}/erase", ADMIN_PAGE),
    ("POST", "/cases/<reference>/erase"): Probe("/cases/{reference}/erase", ADMIN_ACTION, data={}),
    ("POST", "/cases/new"): Probe("/cases/new", NEW_APPLICATION_POST, data={}),
    ("GET", "/api/cases/<reference>"): Probe("/api/cases/{reference}", API_CASE),
    ("POST", "/api/cases/<reference>/tasks/<task_id>"): Probe(
        "/api/cases/{reference}/tasks/{police_task}", API_COMPLETE, json={"data": {}}
    ),
    # An empty application from a coordinator is refused field by field; nobody else may send one.
    ("POST", "/api/applications"): Probe(
        "/api/applications",
        row(401, 401, 422, 403, 403, 403, 403, 403, 403, 403),
        json={"data": {}},
    ),
    ("GET", "/api/csrf-token"): Probe("/api/csrf-token", everyone(200)),
    # /api/v1 answers a signed-in officer's session as the pages do (API clients' tokens act
    # under the same rules: tests/test_api_v1.py); nobody signed in gets 401.
    ("GET", "/api/v1/openapi.json"): Probe("/api/v1/openapi.json", everyone(200)),
    ("GET", "/api/v1/cases"): Probe("/api/v1/cases", API_CASE_LIST),
    ("GET", "/api/v1/cases/<reference>"): Probe("/api/v1/cases/{reference}", API_CASE),
    ("GET", "/api/v1/cases/<reference>/letters"): Probe(
        "/api/v1/cases/{reference}/letters", API_CASE
    ),
    ("POST", "/api/v1/cases/<reference>/tasks/<task_id>/complete"): Probe(
        "/api/v1/cases/{reference}/tasks/{police_task}/complete", API_COMPLETE, json={"data": {}}
    ),
    ("GET", "/api/v1/tasks"): Probe("/api/v1/tasks", API_TASKS),
    # The police officer claims the request and gives it back; nobody else may do either.
    ("POST", "/api/v1/tasks/<task_id>/claim"): Probe(
        "/api/v1/tasks/{police_task}/claim", API_CLAIM, json={}
    ),
    ("POST", "/api/v1/tasks/<task_id>/release"): Probe(
        "/api/v1/tasks/{police_task}/release", API_CLAIM, json={}
    ),
    ("POST", "/api/v1/applications"): Probe(
        "/api/v1/applications",
        row(401, 401, 422, 403, 403, 403, 403, 403, 403, 403),
        json={"data": {}},
    ),
    ("GET", "/api/v1/figures"): Probe(
        "/api/v1/figures", row(401, 401, 403, 403, 403, 403, 403, 403, 200, 403)
    ),
    # Administrators issue and revoke API clients; an empty issue form is refused.
    ("GET", "/admin/api-clients"): Probe("/admin/api-clients", ADMIN_PAGE),
    ("POST", "/admin/api-clients"): Probe("/admin/api-clients", ADMIN_ACTION, data={}),
    ("POST", "/admin/api-clients/<name>/revoke"): Probe(
        "/admin/api-clients/nobody/revoke",
        row(302, 302, 403, 403, 403, 403, 403, 403, 403, 404),
        data={},
    ),
    # Each officer's list of recommendations to update: their agency's (the coordinator: all).
    ("GET", "/recommendations"): Probe("/recommendations", OFFICER_PAGE),
    # The review has made no recommendations yet (tests/test_rules_recommendations.py covers who
    # may update one): no such recommendation, for everyone signed in.
    ("GET", "/recommendations/<int:recommendation_id>"): Probe(
        "/recommendations/999", row(302, 302, *[404] * 8)
    ),
    ("POST", "/recommendations/<int:recommendation_id>"): Probe(
        "/recommendations/999", row(302, 302, *[404] * 8), data={}
    ),
    # Letters and documents: the case's own rule; a letter or document that is not there is 404.
    ("GET", "/cases/<reference>/letters/<int:letter_id>"): Probe(
        "/cases/{reference}/letters/{letter}", CASE_PAGE
    ),
    ("GET", "/cases/<reference>/letters/<int:letter_id>.pdf"): Probe(
        "/cases/{reference}/letters/{letter}.pdf", CASE_PAGE
    ),
    ("GET", "/cases/<reference>/documents/<int:document_id>"): Probe(
        "/cases/{reference}/documents/999", row(302, 302, 404, 404, 404, 404, 404, 403, 404, 403)
    ),
    # The print queue is the coordinator's work.
    ("GET", "/outbox"): Probe("/outbox", row(302, 302, 200, 403, 403, 403, 403, 403, 403, 403)),
    ("POST", "/outbox/<int:message_id>/<action>"): Probe(
        "/outbox/999/printed", row(302, 302, 404, 403, 403, 403, 403, 403, 403, 403), data={}
    ),
    # Incidents (cases held by a failing script) are the process owners' to see and mend; there is
    # none in this case, so the owner is told incident 999 does not exist.
    ("GET", "/incidents"): Probe("/incidents", PROCESS_OWNER_PAGE),
    ("GET", "/incidents/<int:incident_id>"): Probe(
        "/incidents/999", row(302, 302, 403, 403, 403, 403, 403, 404, 403, 403)
    ),
    ("POST", "/incidents/<int:incident_id>/retry"): Probe(
        "/incidents/999/retry", row(302, 302, 403, 403, 403, 403, 403, 404, 403, 403), data={}
    ),
    ("POST", "/incidents/<int:incident_id>/correct"): Probe(
        "/incidents/999/correct",
        row(302, 302, 403, 403, 403, 403, 403, 404, 403, 403),
        data={"values": "{}"},
    ),
    # Uploading files to validate: nothing uploaded is a clear error for the owner.
    ("GET", "/processes/validate"): Probe("/processes/validate", PROCESS_OWNER_PAGE),
    ("POST", "/processes/validate"): Probe(
        "/processes/validate", row(302, 302, 403, 403, 403, 403, 403, 422, 403, 403), data={}
    ),
    ("GET", "/audit/"): Probe("/audit/", AUDITOR_PAGE),
    ("GET", "/audit/cases/<reference>"): Probe("/audit/cases/{reference}", AUDITOR_PAGE),
    ("GET", "/audit/cases/<reference>/history.json"): Probe(
        "/audit/cases/{reference}/history.json", AUDITOR_PAGE
    ),
    ("GET", "/audit/cases/<reference>/history.csv"): Probe(
        "/audit/cases/{reference}/history.csv", AUDITOR_PAGE
    ),
    ("GET", "/audit/cases/<reference>/history.pdf"): Probe(
        "/audit/cases/{reference}/history.pdf", AUDITOR_PAGE
    ),
    ("GET", "/audit/figures"): Probe("/audit/figures", FIGURES_PAGE),
    ("GET", "/audit/figures.csv"): Probe("/audit/figures.csv", FIGURES_PAGE),
    ("GET", "/audit/figures/<figure>"): Probe("/audit/figures/applications", FIGURE_CASES_PAGE),
    # The year's report of the figures (page and PDF), asked for the case's council by name.
    ("GET", "/audit/report"): Probe("/audit/report?authority=derby-city", FIGURES_PAGE),
    ("GET", "/audit/report.pdf"): Probe("/audit/report.pdf?authority=derby-city", FIGURES_PAGE),
    ("GET", "/audit/security-log"): Probe("/audit/security-log", SECURITY_LOG),
    ("GET", "/data-protection/subject-access"): Probe(
        "/data-protection/subject-access", SUBJECT_ACCESS_PAGE
    ),
    ("POST", "/data-protection/subject-access"): Probe(
        "/data-protection/subject-access", SUBJECT_ACCESS_POST, data={}
    ),
    ("POST", "/data-protection/subject-access/export"): Probe(
        "/data-protection/subject-access/export", SUBJECT_ACCESS_POST, data={}
    ),
    # Health checks for load balancers and Compose: open to all, no personal data.
    ("GET", "/healthz"): Probe("/healthz", everyone(200)),
    ("GET", "/assets/editor/<path:filename>"): Probe(
        "/assets/editor/process-viewer.js", everyone(200)
    ),
    ("GET", "/processes"): Probe("/processes", PROCESS_OWNER_PAGE),
    ("GET", "/processes/<int:number>"): Probe("/processes/1", PROCESS_OWNER_PAGE),
    ("GET", "/processes/<int:number>/files/<path:name>"): Probe(
        "/processes/1/files/application.bpmn", PROCESS_OWNER_PAGE
    ),
    ("GET", "/processes/<int:number>/edit/<path:name>"): Probe(
        "/processes/1/edit/application.bpmn", PROCESS_OWNER_PAGE
    ),
    # A post with no content: the owner is shown what is wrong; nothing is deployed.
    ("POST", "/processes/<int:number>/edit/<path:name>"): Probe(
        "/processes/1/edit/application.bpmn",
        row(302, 302, 403, 403, 403, 403, 403, 422, 403, 403),
        data={"content": "", "action": "validate"},
    ),
    ("GET", "/processes/migrate"): Probe("/processes/migrate", PROCESS_OWNER_PAGE),
    # Moving cases from a version to itself: the owner is told that is not a move.
    ("POST", "/processes/migrate"): Probe(
        "/processes/migrate?from=1&to=1",
        row(302, 302, 403, 403, 403, 403, 403, 400, 403, 403),
        data={},
    ),
    # Making the current version current again: the owner is sent back to the list.
    ("POST", "/processes/<int:number>/rollback"): Probe(
        "/processes/1/rollback", row(302, 302, 403, 403, 403, 403, 403, 302, 403, 403), data={}
    ),
    # Last: it ends the session.
    ("POST", "/sign-out"): Probe("/sign-out", everyone(302), data={}),
}


def _first_letter_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        letter_id = session.scalar(select(Letter.id).order_by(Letter.id))
    assert letter_id is not None, "the acknowledgement wrote a letter"
    return letter_id


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    """Each route and method of the app is classified here, and nothing here is stale."""
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - set(MATRIX)) == [], "routes missing from the access matrix"
    assert sorted(set(MATRIX) - routes) == [], "matrix rows for routes that do not exist"


@pytest.mark.parametrize("role", list(ROLES))
def test_role_gets_the_expected_answer_on_every_route(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session], role: str
) -> None:
    """Each route answers this role as the matrix says: allowed, refused (403), not found
    for a case not shared with them (404), or sent to sign in (302 / 401)."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])
    values = {
        "reference": case.reference,
        "police_task": case.task_id("Answer information request", "police"),
        "letter": str(_first_letter_id(sessions)),
    }
    with sessions() as session:
        actors.add_officer(session, "zed", "Zed Spare", "coordinator", "council")
    visitor = app.test_client()
    if role == "applicant":
        CaseDriver(visitor, sessions).apply()
    elif ROLES[role]:
        CaseDriver(visitor, sessions).act_as(str(ROLES[role]))
    actual, expected = {}, {}
    for (method, rule), probe in MATRIX.items():
        path = probe.path.format(**values)
        response = visitor.open(path, method=method, data=probe.data, json=probe.json)
        actual[f"{method} {rule}"] = response.status_code
        response.close()
        expected[f"{method} {rule}"] = probe.expected[role]
    assert actual == expected


@pytest.mark.parametrize("role", [r for r, username in ROLES.items() if username])
def test_navigation_offers_each_role_only_pages_it_may_open(
    app: Flask, sessions: sessionmaker[Session], role: str
) -> None:
    """Every link in a signed-in officer's service navigation opens (200): nobody is offered a
    page the matrix refuses them, and each role is offered at least one page."""
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as(str(ROLES[role]))
    page = visitor.get("/")
    menu = re.search(r'<ul class="govuk-service-navigation__list"[^>]*>(.*?)</ul>', page.text, re.S)
    assert menu is not None
    links = re.findall(r'href="(/[^"]*)"', menu.group(1))
    assert links, f"{role} is offered no page"
    assert {link: visitor.get(link).status_code for link in links} == dict.fromkeys(links, 200)


# R22 for the agencies' answers: which agencies' answers each officer reads (the others see only
# that the agency answered, and when). Police, housing and health all answer this case.
ANSWERING = ("police", "housing", "health")
READS_ANSWERS: dict[str, set[str]] = {
    "carol": set(ANSWERING),  # the coordinator runs the review
    "ingrid": set(ANSWERING),  # the chair weighs every answer at the meeting
    "ada": set(ANSWERING),  # auditors read everything, each view logged
    "pete": {"police"},
    "hana": {"housing"},
    "heath": {"health"},
    "olu": set(),  # the OPCC sees the case, not the agencies' answers
}
# Every route that shows a case's answers: its page (history), its JSON, the chair's meeting task
# (its summary of the answers and its earlier answers), and the auditors' timeline and exports.
ANSWER_ROUTES = (
    "/cases/{reference}",
    "/api/cases/{reference}",
    "/api/v1/cases/{reference}",
    "/tasks/{meeting_task}",
    "/audit/cases/{reference}",
    "/audit/cases/{reference}/history.json",
    "/audit/cases/{reference}/history.csv",
)


def _secret(agency: str) -> str:
    return f"Known only to {agency}: file {agency.upper()}-{len(agency) * 7919}"


def test_r22_each_agency_reads_only_its_own_answer_on_every_route(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22: on every route that shows a case's answers, police read only the police answer (never
    health's or housing's), each agency only its own; the coordinator, the chair and auditors read
    all three; everyone who sees the case is told which agencies answered."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", {"agencies": list(ANSWERING)})
    for agency in ANSWERING:
        answer = {"known_issues": _secret(agency), "action_taken": f"{agency} visited."}
        case.complete("Answer information request", {"information_response": answer}, agency)
    case.act_as("carol")
    values = {"reference": case.reference, "meeting_task": case.task_id("Hold review meeting")}
    for username, readable in READS_ANSWERS.items():
        visitor = app.test_client()
        CaseDriver(visitor, sessions).act_as(username)
        opened = 0
        for route in ANSWER_ROUTES:
            response = visitor.get(route.format(**values))
            if response.status_code != 200:
                assert response.status_code in (403, 404), (username, route)
                continue
            opened += 1
            text = response.get_data(as_text=True)
            read = {a for a in ANSWERING if _secret(a) in text}
            # The audit summary page lists events without their data: it may show fewer.
            assert read <= readable if route == "/audit/cases/{reference}" else read == readable, (
                username,
                route,
            )
            if route == "/cases/{reference}":
                for agency in set(ANSWERING) - readable:
                    name = actors.AGENCIES[agency]
                    assert f"{name} answered the information request" in text, (username, agency)
        assert opened >= 2, f"{username} opened too few routes to test"
