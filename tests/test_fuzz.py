"""Hostile requests to every route never get an HTTP 500 and never change a case.

Every rule of ``app.url_map`` is fuzzed with each of its methods (a new route is covered without
touching this file): hostile URL parts (NUL, ids past the database's integers, long and odd
unicode text), query strings, form bodies on the real forms' input names (bad dates, 30-digit
date parts, long submission keys, file names), JSON bodies (deep nesting, huge numbers, NUL) and
raw bytes, sent anonymously and as a signed-in officer of each role. No request may get a 5xx.
No request may change a case, task or event, except a POST whose address names a real case, task
or officer and which is accepted (claiming a real task ignores the body): its refusal must change
nothing too. Hypothesis runs derandomized with a fixed number of examples, so CI sends the same
requests on every run.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, PathConverter, Rule

from tests.scenario import ANSWERS, CaseDriver, encode, form_schema
from trigger_workflow.samples import ANSWERS as SAMPLE_ANSWERS
from trigger_workflow.samples import APPLICATION
from trigger_workflow.store.models import (
    Case,
    CaseAgency,
    Event,
    Incident,
    Letter,
    OpenTask,
    Recommendation,
)

# Anonymous, then one officer of each role.
ROLES = [None, "carol", "pete", "ingrid", "olu", "ada", "owen", "adam"]
# Hostile requests sent to each (route, method) per role; the total is printed by the test.
EXAMPLES = 4
MAX_ID = 2_147_483_647  # the largest id PostgreSQL's INTEGER columns hold
CASE_TABLES = (Case, OpenTask, Event, CaseAgency, Recommendation, Letter, Incident)

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "9" * 30,
    str(MAX_ID + 1),
    str(2**63),
    "-1",
    "1e309",
    "NaN",
    "x" * 5000,
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202eevil",
    "\ufeff",
    "𝒜𝓈𝒷𝑜",
    "٣١",
    "é" * 300,
    "\r\n\t",
    "{{7*7}}",
    "null",
]
DATE_PARTS = ["0", "00", "1", "31", "32", "13", "9" * 30, "1" * 5000, "-1", "٣", "February", "1.5"]
INTS = ["0", "1", "2", str(MAX_ID), str(MAX_ID + 1), "9" * 30, "9" * 5000, "٣", "-1", "1.0"]
EXTRA_NAMES = [
    "username",
    "password",
    "submission_key",
    "csrf_token",
    "from",
    "to",
    "event",
    "q",
    "status",
    "stage",
    "page",
    "role",
    "agency",
    "assignee",
    "reason",
    "source",
    "data",
    "_add",
]

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
hostile = st.one_of(st.sampled_from(NASTY), texts, st.sampled_from(INTS))


def input_names() -> list[str]:
    """Return the input names of the project's real forms, so bodies reach the form readers."""
    names = {name for name, _ in encode(form_schema("submit_application.json"), APPLICATION)}
    for task, answers in SAMPLE_ANSWERS.items():
        try:
            schema = form_schema(f"{task}.json")
        except FileNotFoundError:
            continue
        names |= {name for name, _ in encode(schema, answers)}
    return sorted(names | set(EXTRA_NAMES))


NAMES = input_names()


def value_for(name: str) -> st.SearchStrategy[str]:
    """Return hostile values, with bad date parts for date inputs."""
    if name.endswith(("-day", "-month", "-year")):
        return st.one_of(st.sampled_from(DATE_PARTS), hostile)
    return hostile


form_pairs = st.lists(
    st.one_of(
        st.sampled_from(NAMES).flatmap(lambda n: st.tuples(st.just(n), value_for(n))),
        st.tuples(hostile, hostile),
    ),
    max_size=12,
)

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile,
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile, inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_bodies(draw: st.DrawFn) -> str:
    """Return a JSON text: a task-shaped body with hostile answers, any value, or deep nesting."""
    kind = draw(st.sampled_from(["answers", "value", "deep"]))
    if kind == "answers":
        answers = {name: draw(json_values) for name in draw(st.lists(st.sampled_from(NAMES)))}
        body: Any = {"data": answers}
        for key in ("received_on", "submission_key"):
            if draw(st.booleans()):
                body[key] = draw(st.one_of(json_values, st.sampled_from(["k" * 65, "2026-02-30"])))
    elif kind == "value":
        body = draw(json_values)
    else:
        depth = draw(st.sampled_from([31, 32, 33, 999, 1000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"data": ', "}")]))
        return opener * depth + "1" + closer * depth
    return json.dumps(body)


def url_part(converter: Any, known: list[str]) -> st.SearchStrategy[tuple[str, bool]]:
    """Return text for one URL variable, and whether it is a real identifier (to go deeper)."""
    if isinstance(converter, IntegerConverter):
        texts = st.one_of(st.sampled_from(INTS), st.integers(0, 10**40).map(str))
        return st.tuples(texts, st.just(False))
    safe = "/" if isinstance(converter, PathConverter) else ""
    return st.one_of(
        st.tuples(hostile, st.just(False)), st.tuples(st.sampled_from(known), st.just(True))
    ).map(lambda part: (quote(part[0], safe=safe) or "x", part[1]))


@st.composite
def requests(draw: st.DrawFn, rule: Rule, method: str, known: list[str]) -> dict[str, Any]:
    """Return the keyword arguments of one hostile request to this rule with this method.

    ``real_ids`` says whether the address names a real case, task or officer: such a POST may
    rightly succeed (claiming a real task ignores the body), so only its refusal must change nothing.
    """
    parts = {name: draw(url_part(c, known)) for name, c in rule._converters.items()}
    url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: parts[m.group(1)][0], rule.rule)
    query = draw(st.lists(st.tuples(hostile, hostile), max_size=3))
    if query:
        url += "?" + urlencode(query)
    real_ids = any(real for _, real in parts.values())
    request: dict[str, Any] = {"path": url, "method": method, "real_ids": real_ids}
    if method == "GET":
        return request
    kind = draw(st.sampled_from(["none", "form", "json", "file", "bytes"]))
    if kind == "form":
        request["data"] = MultiDict(draw(form_pairs))
    elif kind == "json":
        request["data"] = draw(json_bodies())
        request["content_type"] = "application/json"
    elif kind == "file":
        field = draw(st.sampled_from(["victim.consent_document-file", "file", "upload"]))
        name = draw(st.one_of(st.sampled_from(["a\x00.pdf", "x" * 500 + ".pdf"]), hostile))
        content = draw(st.binary(max_size=64))
        request["data"] = {field: (io.BytesIO(content), name), **dict(draw(form_pairs))}
        request["content_type"] = "multipart/form-data"
    elif kind == "bytes":
        request["data"] = draw(st.binary(max_size=200))
        request["content_type"] = draw(
            st.sampled_from(
                [
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                ]
            )
        )
    return request


def fingerprint(sessions: sessionmaker[Session]) -> str:
    """Return a hash of every case row, task, event and the case's other records."""
    digest = hashlib.sha256()
    with sessions() as session:
        for model in CASE_TABLES:
            columns = model.__table__.columns
            for row in session.execute(select(*columns).order_by(*model.__table__.primary_key)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Return every (rule, method) the app answers, HEAD and OPTIONS aside."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]


def case_under_attack(client: FlaskClient, sessions: sessionmaker[Session]) -> list[str]:
    """Start a case with a letter sent and a task open; return its real identifiers."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.complete("Acknowledge application", ANSWERS["Acknowledge application"])
    tasks = [t["id"] for t in case.case()["open_tasks"]]
    case.sign_out()
    return [case.reference, *tasks, "carol", "acknowledge_application.json", "R20", "1"]


# A failing batch holds 5,000-character texts and deep JSON: Hypothesis warns its repr is long.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_hostile_requests_to_every_route_get_no_500_and_change_no_case(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """Every route, every method, every role, hostile input: 4xx at worst, and no case changed."""
    known = case_under_attack(client, sessions)
    all_routes = routes(app)
    assert len(all_routes) > 50  # the url_map really was enumerated
    batches = st.tuples(*(requests(rule, method, known) for rule, method in all_routes))
    sent: dict[str, int] = {}
    statuses: Counter[int] = Counter()
    accepted = 0
    for role in ROLES:
        client.delete_cookie("session")
        if role is not None:
            CaseDriver(client, sessions).act_as(role)
        attack = Attack(client, sessions, role or "anonymous")
        sent[role or "anonymous"] = attack.run(batches)
        statuses += attack.statuses
        accepted += attack.accepted
        assert sent[role or "anonymous"] == EXAMPLES * len(all_routes)
    answers = dict(sorted(statuses.items()))
    print(f"\n{sum(sent.values())} requests to {len(all_routes)} routes: {sent}; answers {answers}")
    print(f"{accepted} POSTs naming a real case, task or officer were answered 2xx or 3xx")


class Attack:
    """One role's turn: batches of hostile requests, each checked for a 5xx or a changed case."""

    def __init__(self, client: FlaskClient, sessions: sessionmaker[Session], role: str) -> None:
        self.client, self.sessions, self.role = client, sessions, role
        self.cookie = client.get_cookie("session")
        self.before = fingerprint(sessions)
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.accepted = 0

    def run(self, batches: st.SearchStrategy[tuple[dict[str, Any], ...]]) -> int:
        """Send EXAMPLES batches (one request to every route each); return how many were sent."""

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # no shrinking: the failure message names the request
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,  # the assertion names the request; the batch is huge
        )
        @given(batches)
        def attack(batch: tuple[dict[str, Any], ...]) -> None:
            for request in batch:
                self.send(request)
            assert fingerprint(self.sessions) == self.before, f"{self.role}: a GET changed a case"

        attack()
        return self.sent

    def send(self, request: dict[str, Any]) -> None:
        """Send one request as this role; assert no 5xx and, after a POST, no case changed."""
        # A fuzzed POST /sign-out must not end the officer's turn: restore the session first.
        if self.cookie is not None:
            self.client.set_cookie(self.cookie.key, self.cookie.value)
        else:
            self.client.delete_cookie("session")
        # The path goes first: CsrfClient adds the token only to a positional path, as a browser would.
        status = self.client.open(request["path"], **without_path(request)).status_code
        self.sent += 1
        self.statuses[status] += 1
        assert status < 500, describe(self.role, request, status)
        if request["method"] == "GET":
            return
        after = fingerprint(self.sessions)
        if request["real_ids"] and status < 400:
            self.before = after  # a real task claimed, say: a request that may rightly succeed
            self.accepted += 1
        else:
            assert after == self.before, describe(self.role, request, status)


def without_path(request: dict[str, Any]) -> dict[str, Any]:
    """Return a request's other arguments for the test client."""
    return {key: value for key, value in request.items() if key not in ("path", "real_ids")}


def describe(role: str, request: dict[str, Any], status: int) -> str:
    """Return a short account of a request that broke the rule."""
    body = request.get("data")
    shown = repr(body)[:300] if not isinstance(body, dict) else repr(list(body))[:300]
    return f"{role}: {request['method']} {request['path'][:300]!r} -> {status}; body {shown}"


def test_each_cause_of_the_first_fuzzing_gets_a_clear_4xx_and_changes_nothing(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """NUL, ids past INTEGER, deep JSON, 30-digit date parts, long keys: 400/404/422, never 500."""
    case = CaseDriver(client, sessions)
    case.apply()
    case.act_as("carol")
    task = case.task_id("Acknowledge application")
    before = fingerprint(sessions)
    day = {"acknowledged_on-day": "1" * 30, "acknowledged_on-month": "1"}
    deep = "[" * 1000 + "]" * 1000
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"path": "/cases/a%00b"}, 400, "NUL character"),
        ({"path": "/cases?q=a%00b"}, 400, "NUL character"),
        ({"path": "/api/cases/a%00b"}, 400, "NUL character"),
        (
            {"path": "/sign-in", "method": "POST", "data": {"username": "a\x00", "password": "x"}},
            400,
            "NUL character",
        ),
        ({"path": f"/recommendations/{MAX_ID + 1}"}, 404, "Not Found"),
        ({"path": f"/cases/{case.reference}/letters/{'9' * 30}"}, 404, "Not Found"),
        ({"path": f"/incidents/{'9' * 5000}"}, 404, "Not Found"),
        (
            {"path": f"/api/cases/{case.reference}/tasks/{task}", "method": "POST", "data": deep},
            400,
            "more than 32 deep",
        ),
        ({"path": "/api/applications", "method": "POST", "data": deep}, 400, "more than 32 deep"),
        (
            {"path": "/api/applications", "method": "POST", "data": '{"data": {"a": "\\u0000"}}'},
            400,
            "NUL character",
        ),
        (
            {
                "path": f"/tasks/{task}",
                "method": "POST",
                "data": {**day, "acknowledged_on-year": "2026"},
            },
            422,
            "Enter a real date for date acknowledged",
        ),
        (
            {
                "path": "/api/applications",
                "method": "POST",
                "data": json.dumps({"data": APPLICATION, "submission_key": "k" * 65}),
            },
            422,
            "64 characters or fewer",
        ),
    ]
    for request, status, says in cases:
        if isinstance(request.get("data"), str):
            request["content_type"] = "application/json"
        response = client.open(request["path"], **without_path(request))
        assert (response.status_code, says in response.text) == (status, True), request["path"]
        assert fingerprint(sessions) == before, request["path"]
