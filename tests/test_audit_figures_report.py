"""R20 by quarter and the year's report: cases spread over the quarters of a financial year and
two councils are counted in the quarter they were received; each council's report adds up to the
county's; another council's auditor cannot get ours; the PDF is a real PDF with the numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
import weasyprint
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import FRONT, PATHS, REVIEW, Step, open_task
from tests.authorities_helpers import County, two_authorities
from tests.scenario import CaseDriver
from trigger_workflow.samples import ANSWERS, APPLICATION
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.audit import definitions, figure_charts, report
from trigger_workflow.services.audit.figures import Figures, Period, figures
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import Case
from trigger_workflow.web import audit

YEAR = Period.financial_year(date(2026, 4, 1))  # 1 April 2026 to 31 March 2027
MET = [*FRONT, ("decide_threshold", ANSWERS["decide_threshold"], None)]
# Chesterfield's review asks the police only (its own staff have no housing officer).
CHF_REVIEW: list[Step] = [
    ("choose_agencies", {"agencies": ["police"]}, None),
    ("answer_information_request", ANSWERS["answer_information_request"], "police"),
    *REVIEW[3:],
]
NO_RECOMMENDATIONS = dict(ANSWERS["hold_review_meeting"], recommendations=[])
# Who does each step in each council: its coordinator, its chair; police answer for both.
STAFF = {
    "derby": {"hold_review_meeting": "ingrid", "answer_information_request": None, "": "carol"},
    "chesterfield": {
        "hold_review_meeting": "chris",
        "answer_information_request": None,
        "": "cath",
    },
}
AGENCY_OFFICER = {"police": "pete", "housing": "hana"}


def _case(session: Session, county: County, council: str, received: date, steps: list[Step]) -> str:
    """Receive the sample application in this council on this day and complete the steps."""
    authority = county.derby if council == "derby" else county.chesterfield
    started = cases.submit_application(
        session, cases.SubmitApplication(APPLICATION, actors.PUBLIC, None, received, authority)
    )
    for spec, answers, agency in steps:
        staff = STAFF[council]
        username = AGENCY_OFFICER[agency] if agency else staff.get(spec) or staff[""]
        task = open_task(session, started.reference, spec, agency)
        officer = actors.find_officer(session, username)
        cases.complete_task(session, cases.CompleteTask(started.reference, task, answers, officer))
    return started.reference


def _seed(sessions: sessionmaker[Session]) -> tuple[County, dict[str, str]]:
    """Two councils' cases over the four quarters of 2026–27 (and one received the year before).

    | case | council | received | went through |
    | d_q1 | Derby | 10 May 2026 (Q1) | threshold not met |
    | d_q2 | Derby | 3 August 2026 (Q2) | review, recommendations |
    | d_q3 | Derby | 2 November 2026 (Q3) | rejected |
    | c_q1 | Chesterfield | 30 June 2026 (Q1) | review, no recommendations |
    | c_q3 | Chesterfield | 1 October 2026 (Q3) | review, recommendations |
    | c_q4 | Chesterfield | 22 March 2027 (Q4) | threshold not met, acknowledged in 2 working days |
    | d_before | Derby | 31 March 2026 | threshold not met (the year before: not counted) |
    """
    county = two_authorities(sessions)
    review = [*CHF_REVIEW[:2], ("hold_review_meeting", NO_RECOMMENDATIONS, None), CHF_REVIEW[3]]
    with sessions() as session:
        refs = {
            "d_q1": _case(session, county, "derby", date(2026, 5, 10), PATHS["threshold not met"]),
            "d_q2": _case(session, county, "derby", date(2026, 8, 3), [*MET, *REVIEW]),
            "d_q3": _case(session, county, "derby", date(2026, 11, 2), PATHS["rejected"]),
            "c_q1": _case(session, county, "chesterfield", date(2026, 6, 30), [*MET, *review]),
            "c_q3": _case(session, county, "chesterfield", date(2026, 10, 1), [*MET, *CHF_REVIEW]),
            "c_q4": _case(
                session, county, "chesterfield", date(2027, 3, 22), PATHS["threshold not met"]
            ),
            "d_before": _case(
                session, county, "derby", date(2026, 3, 31), PATHS["threshold not met"]
            ),
        }
    return county, refs


def _by_quarter(result: Any, key: str) -> list[int]:
    return [quarter.count(key) for quarter in result.quarters]


@pytest.mark.today("2027-03-24")
def test_r20_figures_by_quarter_of_the_financial_year(
    sessions: sessionmaker[Session], deployed: Any
) -> None:
    """R20: each application counts in the quarter (April–June, July–September, October–December,
    January–March) it was received, per council and county-wide; the quarters add up to the
    year; each step's timeliness is counted by quarter too."""
    county, refs = _seed(sessions)
    with sessions() as session:
        whole = figures(session, YEAR)
        derby = figures(session, YEAR, Case.authority_id == county.derby)
        chesterfield = figures(session, YEAR, Case.authority_id == county.chesterfield)
    assert [q.period.months() for q in whole.quarters] == [
        "April to June 2026",
        "July to September 2026",
        "October to December 2026",
        "January to March 2027",
    ]
    assert _by_quarter(whole, "applications") == [2, 1, 2, 1]
    assert _by_quarter(whole, "threshold_not_met") == [1, 0, 0, 1]
    assert _by_quarter(whole, "rejected") == [0, 0, 1, 0]
    assert _by_quarter(whole, "reviews") == [1, 1, 1, 0]
    assert _by_quarter(whole, "with_recommendations") == [0, 1, 1, 0]
    assert whole.quarters[0].cases["applications"] == sorted([refs["d_q1"], refs["c_q1"]])
    assert refs["d_before"] not in whole.cases["applications"]
    assert _by_quarter(derby, "applications") == [1, 1, 1, 0]
    assert _by_quarter(chesterfield, "applications") == [1, 0, 1, 1]
    assert _by_quarter(chesterfield, "reviews") == [1, 0, 1, 0]
    assert whole.inconsistencies() == derby.inconsistencies() == []
    # Acknowledged today: 2 working days after 22 March 2027, months after the others.
    ack = [q.step("acknowledge_application") for q in whole.quarters]
    assert [(s.done, s.within) for s in ack if s] == [(2, 0), (1, 0), (2, 0), (1, 1)]
    assert figure_charts.share_text(ack[3]) == "100% (1 of 1)"
    assert figure_charts.share_text(ack[0]) == "0% (0 of 2)"


def test_r20_quarters_of_any_twelve_months_cover_them_exactly() -> None:
    """R20: the four quarters of any 12 months follow each other without gap or overlap, from
    the first day to the last (a first day late in a month keeps to the month's last day); the
    figures say when their quarters do not add up to the year."""
    for start in (date(2026, 4, 1), date(2026, 8, 31), date(2028, 2, 29), date(2026, 1, 15)):
        period = Period.starting(start)
        quarters = period.quarters()
        assert quarters[0].start == period.start and quarters[-1].end == period.end
        for before, after in zip(quarters, quarters[1:], strict=False):
            assert (after.start - before.end).days == 1
    assert [q.start for q in Period.starting(date(2026, 8, 31)).quarters()] == [
        date(2026, 8, 31),
        date(2026, 11, 30),
        date(2027, 2, 28),
        date(2027, 5, 31),
    ]
    assert Period.starting(date(2026, 1, 15)).quarters()[0].months() == (
        "15 January 2026 to 14 April 2026"
    )
    empty = {key: [] for key in definitions.FIGURES}
    year = Figures(YEAR, {**empty, "applications": ["A", "B"]}, [])
    year.quarters = [Figures(q, {**empty, "applications": ["A"]}, []) for q in YEAR.quarters()]
    assert year.inconsistencies() == ["the quarters' applications do not add up to the year's"]


@pytest.mark.today("2027-03-24")
def test_r20_each_councils_report_adds_up_to_the_countys(
    app: Flask, sessions: sessionmaker[Session], deployed: Any
) -> None:
    """R20: the county-wide auditor's report lists each council's figures and their total, which
    is the county's; each council's own report has the same numbers as its row, the figures page
    and the CSV, quarter by quarter."""
    county, _ = _seed(sessions)
    with sessions() as session:
        officer = actors.officer_account(session, "ada")
        officer.county_wide, officer.authority_id = True, None
        session.commit()
        councils = [("derby-city", "Derby", county.derby)]
        councils.append(("chesterfield", "Chesterfield", county.chesterfield))
        rolled = report.year_report(session, YEAR, Case.id.is_not(None), councils)
    assert rolled.problems() == []
    assert [name for name, _ in rolled.councils] == ["Derby", "Chesterfield"]
    for key in definitions.FIGURES:
        assert rolled.figures.count(key) == sum(c.count(key) for _, c in rolled.councils), key
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as("ada")
    start = YEAR.start.isoformat()
    whole = visitor.get(f"/audit/report?start={start}").text
    assert "Community Trigger figures, financial year 2026 to 2027" in whole
    assert _row(whole, "report-councils-total") == ["All councils", "6", "2", "3", "2"]
    for code, name in (("derby-city", "Derby City Council"), ("chesterfield", "Chesterfield")):
        own = visitor.get(f"/audit/report?start={start}&authority={code}").text
        counts = [_row(own, f"report-figure-{key}")[1] for key in definitions.STATUTORY]
        assert _row(whole, None, name)[1:] == counts, code
        page = visitor.get(f"/audit/figures?start={start}&authority={code}").text
        for n in range(1, 5):
            assert _row(own, f"report-quarters-q{n}") == _row(page, f"quarters-q{n}")
    rows = list(csv.reader(io.StringIO(visitor.get(f"/audit/figures.csv?start={start}").text)))
    header = rows.index(["quarter", "first day", "last day", *definitions.FIGURES.values()])
    q1 = rows[header + 1]
    assert q1[:4] == ["Q1", "2026-04-01", "2026-06-30", "2"]
    assert _row(whole, "report-quarters-q1")[1:] == [
        q1[3 + list(definitions.FIGURES).index(key)] for key in definitions.STATUTORY
    ]


@pytest.mark.today("2027-03-24")
def test_r20_another_councils_staff_cannot_get_our_report(
    app: Flask, sessions: sessionmaker[Session], deployed: Any
) -> None:
    """Issue 12: Chesterfield's auditor asking for Derby City's report, page or PDF, is told it
    does not exist (404); their own report covers Chesterfield only; Derby's coordinator reads
    Derby's, is told Chesterfield's does not exist, and a police officer gets 403."""
    _seed(sessions)
    abe = app.test_client()
    CaseDriver(abe, sessions).act_as("abe")
    for path in ("/audit/report", "/audit/report.pdf"):
        refused = abe.get(f"{path}?authority=derby-city")
        assert refused.status_code == 404
    own = abe.get("/audit/report?start=2026-04-01").text
    assert _text(own, "report-area") == "Chesterfield Borough Council"
    assert "Derby" not in _main(own)
    assert _row(own, "report-figure-applications") == ["Applications received", "3"]
    carol = app.test_client()
    CaseDriver(carol, sessions).act_as("carol")
    derby = carol.get("/audit/report?start=2026-04-01").text
    assert _text(derby, "report-area") == "Derby City Council"
    assert "Chesterfield" not in _main(derby)
    assert carol.get("/audit/report?authority=chesterfield").status_code == 404
    pete = app.test_client()
    CaseDriver(pete, sessions).act_as("pete")
    assert pete.get("/audit/report").status_code == 403
    assert pete.get("/audit/report.pdf").status_code == 403


@pytest.mark.today("2027-03-24")
def test_r20_the_reports_pdf_is_a_pdf_with_the_numbers(
    app: Flask, sessions: sessionmaker[Session], deployed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF download is a PDF (WeasyPrint, as the letters) whose pages, laid out from the
    page it was made from, hold the title, the figures, the quarters and the charts."""
    _seed(sessions)
    made: list[str] = []
    real = audit.pdf.html_to_pdf
    monkeypatch.setattr(audit.pdf, "html_to_pdf", lambda html: made.append(html) or real(html))
    visitor = app.test_client()
    CaseDriver(visitor, sessions).act_as("ada")
    response = visitor.get("/audit/report.pdf?start=2026-04-01")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and b"%%EOF" in response.data[-64:]
    assert "community-trigger-report-2026-04-01.pdf" in response.headers["Content-Disposition"]
    [html] = made
    assert "<script" not in html and not re.search(r"\b(CT|CHF)-\d{4}-", html)  # no case named
    document = weasyprint.HTML(string=html, base_url=None).render()
    words = " ".join(_words(page._page_box) for page in document.pages)
    assert "Community Trigger figures, financial year 2026 to 2027" in words
    assert "Derby City Council" in words
    # Derby's year: 3 applications, 1 not met, 1 review, 1 with recommendations.
    assert re.search(
        r"Applications received 3 Threshold not met 1 Case reviews carried out 1", words
    )
    assert "Q1: April to June 2026 1 1 0 0" in words
    assert "Acknowledge application (5) 0% (0 of 1)" in words
    svgs = [box for page in document.pages for box in _boxes(page._page_box) if _is_svg(box)]
    assert len(svgs) == 5  # four figures and the timeliness, drawn into the PDF


def _boxes(box: Any) -> Any:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def _words(box: Any) -> str:
    return " ".join(
        " ".join(b.text.split()) for b in _boxes(box) if getattr(b, "text", None)
    ).replace("  ", " ")


def _is_svg(box: Any) -> bool:
    return type(box).__name__ == "InlineReplacedBox" and "SVG" in type(box.replacement).__name__


def _row(page: str, ident: str | None, heading: str | None = None) -> list[str]:
    """Return a table row's cells as text: the row with this id, or whose heading starts so."""
    for attributes, inside in re.findall(r"<tr([^>]*)>(.*?)</tr>", page, re.S):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", inside, re.S)
        ]
        if ident is not None and f'id="{ident}"' in attributes:
            return cells
        if heading is not None and cells and cells[0].startswith(heading):
            return cells
    raise AssertionError(f"no row {ident or heading}")


def _main(page: str) -> str:
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def _text(page: str, ident: str) -> str:
    found = re.search(rf'id="{ident}"[^>]*>(.*?)<', page, re.S)
    assert found, ident
    return " ".join(found.group(1).split())
