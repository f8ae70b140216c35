"""Subject access requests (issue 13, item 4; R22 for the logged views): a person is found across
the cases an auditor or administrator serves, and what is held about them is exported as JSON
and PDF with every other person's details redacted; each search and export is logged."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_cases import PATHS, run_case
from tests.authorities_helpers import two_authorities
from tests.subject_access_helpers import OTHERS, SAM, pdf_text, sams_cases
from trigger_workflow.errors import FormInvalid, NotPermitted
from trigger_workflow.samples import APPLICATION
from trigger_workflow.services.accounts import actors, security_log
from trigger_workflow.services.privacy import event_erasure, subject_access, subject_access_files
from trigger_workflow.services.privacy import salts as case_salts
from trigger_workflow.services.privacy.subject_access import PersonQuery
from trigger_workflow.services.privacy.subject_access_report import AGENCY_REVIEW, ERASED, REDACTED
from trigger_workflow.services.tasks import records
from trigger_workflow.store.chain import SEALED
from trigger_workflow.store.models import Case, CaseView, Erasure, Event, SecurityEvent

pytestmark = [pytest.mark.usefixtures("deployed"), pytest.mark.today("2026-11-23")]
BY_NAME = PersonQuery(name="sam requester")


def _keys(matches: list[subject_access.Match]) -> list[tuple[str, str]]:
    return [(m.reference, m.subject) for m in matches]


def test_a_person_is_found_as_applicant_on_one_case_and_victim_on_another(
    session: Session,
) -> None:
    """Sam applied on one case and is the victim on another: a search by name, typed with other
    capitals and spaces, finds both, saying as whom and what matched."""
    sams = sams_cases(session)
    ada = actors.find_officer(session, "ada")
    matches = subject_access.search(session, ada, PersonQuery(name="  SAM  requester"))
    assert _keys(matches) == [(sams.as_applicant, "applicant"), (sams.as_victim, "victim")]
    assert [m.matched for m in matches] == [("name",), ("name",)]


def test_postcode_phone_email_and_date_of_birth_match_however_they_are_written(
    session: Session,
) -> None:
    """Postcode spacing, a phone number's +44 and spaces, an email's capitals and a date written
    day first all match; the case where every one matches comes first."""
    sams = sams_cases(session)
    ada = actors.find_officer(session, "ada")
    query = PersonQuery(
        postcode="de1 2ab", phone="+44 1332 123 456", email="SAM.requester@example.ORG",
        date_of_birth="27/3/1980",
    )  # fmt: skip
    matches = subject_access.search(session, ada, query)
    assert _keys(matches) == [(sams.as_applicant, "applicant"), (sams.as_victim, "victim")]
    assert matches[0].matched == ("email", "phone", "postcode", "date_of_birth")
    assert matches[1].matched == ("email", "postcode")


def test_a_search_with_no_details_is_refused(session: Session) -> None:
    """At least one detail is needed: an empty search would list everyone."""
    with pytest.raises(FormInvalid):
        subject_access.search(session, actors.find_officer(session, "ada"), PersonQuery())


def test_other_roles_may_not_search_or_export(session: Session) -> None:
    """Only auditors and administrators handle subject access requests."""
    sams_cases(session)
    for username in ("carol", "pete", "ingrid", "olu", "owen"):
        actor = actors.find_officer(session, username)
        with pytest.raises(NotPermitted):
            subject_access.search(session, actor, BY_NAME)
        with pytest.raises(NotPermitted):
            subject_access.export(session, actor, BY_NAME, ["x:applicant"], "JSON")


def test_another_councils_cases_are_not_searched(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """Issue 12: Derby City's auditor finds Sam on Derby's cases only; Chesterfield's auditor
    finds only Chesterfield's case, and cannot export one of Derby's by naming it."""
    two_authorities(sessions)
    derby = sams_cases(session)
    chesterfield = sams_cases(session, "cath")
    ada = actors.find_officer(session, "ada")
    abe = actors.find_officer(session, "abe")
    assert {r for r, _ in _keys(subject_access.search(session, ada, BY_NAME))} == {
        derby.as_applicant,
        derby.as_victim,
    }
    assert {r for r, _ in _keys(subject_access.search(session, abe, BY_NAME))} == {
        chesterfield.as_applicant,
        chesterfield.as_victim,
    }
    with pytest.raises(FormInvalid):
        subject_access.export(session, abe, BY_NAME, [f"{derby.as_applicant}:applicant"], "JSON")


def test_the_export_holds_the_persons_data_and_nobody_elses(session: Session) -> None:
    """Sam's export (JSON and PDF) has Sam's details, stages, letter and decisions; Olive (the
    victim on Sam's application) and Pat (who applied for Sam) appear nowhere in it: their
    groups are redacted, and the letters sent to Pat are withheld."""
    sams = sams_cases(session)
    ada = actors.find_officer(session, "ada")
    chosen = [f"{sams.as_applicant}:applicant", f"{sams.as_victim}:victim"]
    done = subject_access.export(session, ada, BY_NAME, chosen, "JSON")
    text = subject_access_files.as_json(done.document)
    document = json.loads(text)
    mine, victim = document["cases"]
    assert (mine["reference"], mine["as"], victim["as"]) == (
        sams.as_applicant,
        "applicant",
        "victim",
    )
    details = {d["path"]: d["value"] for d in mine["details"]}
    assert details["/applicant/name"] == SAM["name"]
    assert details["/applicant/email"] == SAM["email"]
    assert {d["path"] for d in victim["details"]} >= {"/victim/name", "/victim/postcode"}
    # The stages and decisions are there; the free text is flagged for review.
    assert [e["what"] for e in mine["history"]][:2] == ["Case started", "Submit application"]
    items = [i for e in mine["history"] for i in e["items"]]
    assert any(i["path"] == "/victim/name" and i["value"] == REDACTED for i in items)
    summary = next(i for i in items if i["path"] == "/asb_summary")
    assert summary["review"].startswith("review before release")
    assert any(i["path"] == "/acknowledgement_method" and i["about"] == "none" for i in items)
    # The letter to Sam is there as sent; the letter to Pat is not.
    assert SAM["name"] in mine["letters"][0]["html"]
    assert victim["letters"][0]["html"] is None and victim["letters"][0]["withheld"]
    pdf = subject_access_files.as_pdf(done.document, "Derby City Council")
    shown = pdf_text(pdf)
    assert SAM["name"] in shown and sams.as_victim in shown
    assert "redacted: another person" in shown
    leaked = [v for v in OTHERS if v.casefold() in text.casefold() or v in shown]
    assert leaked == []


def test_an_erased_value_is_shown_as_erased_and_matches_nothing(session: Session) -> None:
    """A value erased from an event (sealed, as erasure leaves it) is exported as "erased", and
    nobody is found by it any more."""
    sams = sams_cases(session)
    case_id = session.scalar(select(Case.id).where(Case.reference == sams.as_applicant))
    event = session.scalar(
        select(Event).where(Event.case_id == case_id, Event.kind == "task_completed")
    )
    assert event is not None and event.data["applicant"]["email"] == SAM["email"]
    data = json.loads(json.dumps(event.data))
    data["applicant"]["email"] = {SEALED: "x"}
    # As the erasure does it: the append-only guard is for the ORM, erasure writes underneath.
    session.execute(update(Event).where(Event.id == event.id).values(data=data))
    session.commit()
    ada = actors.find_officer(session, "ada")
    by_email = subject_access.search(session, ada, PersonQuery(email=SAM["email"]))
    assert _keys(by_email) == [(sams.as_victim, "victim")]
    done = subject_access.export(session, ada, BY_NAME, [f"{sams.as_applicant}:applicant"], "JSON")
    details = {d["path"]: d["value"] for d in done.document["cases"][0]["details"]}
    assert details["/applicant/email"] == ERASED
    assert details["/applicant/name"] == SAM["name"]
    assert ERASED in pdf_text(subject_access_files.as_pdf(done.document, "Derby City Council"))


def test_after_a_real_erasure_the_export_shows_it_and_the_erased_person_is_not_found(
    session: Session,
) -> None:
    """After the erasure service sealed a case's free text, the export shows each of those
    values as erased and lists the erasure; once Sam's own values are erased from a case, Sam is
    no longer found there."""
    sams = sams_cases(session)
    _erase(session, sams.as_applicant, {"case"})
    ada = actors.find_officer(session, "ada")
    chosen = [f"{sams.as_applicant}:applicant"]
    document = subject_access.export(session, ada, BY_NAME, chosen, "JSON").document
    mine = document["cases"][0]
    items = [i for e in mine["history"] for i in e["items"]]
    summary = next(i for i in items if i["path"] == "/asb_summary")
    assert (summary["value"], summary["about"]) == (ERASED, "case")
    assert [(e["under"], e["subjects"]) for e in mine["erasures"]] == [("request", ["case"])]
    _erase(session, sams.as_applicant, {"applicant"})
    assert _keys(subject_access.search(session, ada, BY_NAME)) == [(sams.as_victim, "victim")]


def _erase(session: Session, reference: str, subjects: set[str]) -> None:
    """Erase as the erasure service does: seal in the events, destroy the salts, record it."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    erased = event_erasure.erase_from_events(session, case, subjects)
    case_salts.destroy(session, case, subjects)
    session.add(
        Erasure(
            case_id=case.id, subjects=sorted(subjects), under="request",
            reason="The subject's request", erased_by="adam", counts={"events": erased.events},
        )
    )  # fmt: skip
    session.commit()


def test_searches_and_exports_are_logged_without_personal_values(session: Session) -> None:
    """R22: each export is a logged view of each case in it; the security log has the search and
    the export with the references and counts, never the name, email or postcode searched for."""
    sams = sams_cases(session)
    adam = actors.find_officer(session, "adam")  # an administrator's views are logged too
    query = PersonQuery(name=SAM["name"], postcode=SAM["postcode"])
    subject_access.search(session, adam, query)
    subject_access.export(session, adam, query, [f"{sams.as_victim}:victim"], "PDF")
    logged = list(session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)))
    kinds = [e.kind for e in logged]
    assert kinds[-2:] == [
        security_log.SUBJECT_ACCESS_SEARCHED,
        security_log.SUBJECT_ACCESS_EXPORTED,
    ]
    searched, exported = logged[-2:]
    assert searched.actor == exported.actor == "adam"
    assert searched.detail == (
        f"searched by name, postcode: 2 matches on {sams.as_applicant}, {sams.as_victim}"
    )
    assert exported.detail == f"PDF export of 1 cases: {sams.as_victim}"
    for entry in (searched, exported):
        written = f"{entry.subject} {entry.detail}".casefold()
        assert not [v for v in (SAM["name"], "de1 2ab", "de12ab") if v.casefold() in written]
    views = session.scalars(
        select(CaseView).join(Case, Case.id == CaseView.case_id).where(CaseView.username == "adam")
    )
    assert [(v.role, v.what) for v in views] == [
        ("administrator", "subject access export (PDF) of the victim")
    ]


def test_agencies_answers_follow_who_may_read_them(session: Session) -> None:
    """R22 in the export: the auditor (who reads every agency's answer) gets the housing
    answer flagged to review with the agency; the administrator (who reads none) gets only that
    housing answered, never what it said."""
    reference = run_case(session, PATHS["in review"])
    query = PersonQuery(name=APPLICATION["applicant"]["name"])
    chosen = [f"{reference}:applicant"]
    ada, adam = (actors.find_officer(session, u) for u in ("ada", "adam"))
    audited = subject_access.export(session, ada, query, chosen, "JSON").document
    answered = [
        e for e in audited["cases"][0]["history"] if e["what"] == "Answer information request"
    ]
    answer = next(
        i for i in answered[0]["items"] if i["path"] == "/information_response/known_issues"
    )
    assert (answer["value"], answer["about"]) == ("Two reports logged.", "agency")
    assert answer["review"] == AGENCY_REVIEW
    administered = subject_access.export(session, adam, query, chosen, "JSON").document
    text = subject_access_files.as_json(administered)
    assert "Two reports logged." not in text and "Warning letter." not in text
    withheld = [
        e["answers_withheld"] for e in administered["cases"][0]["history"] if e["answers_withheld"]
    ]
    assert withheld == [["housing"]]


def test_events_recorded_before_personal_data_was_classified_are_redacted_too(
    session: Session,
) -> None:
    """Events written before events named their personal values (personal is None) are
    classified as they are exported: the other people on Sam's cases are still redacted."""
    sams = sams_cases(session)
    session.execute(update(Event).values(personal=None))  # as events recorded before issue 13
    session.commit()
    ada = actors.find_officer(session, "ada")
    chosen = [f"{sams.as_applicant}:applicant", f"{sams.as_victim}:victim"]
    done = subject_access.export(session, ada, BY_NAME, chosen, "JSON")
    text = subject_access_files.as_json(done.document)
    assert SAM["email"] in text and REDACTED in text
    assert [v for v in OTHERS if v.casefold() in text.casefold()] == []


def test_corrections_are_searched_and_the_values_they_replaced_are_redacted_by_whose(
    session: Session,
) -> None:
    """A process owner's corrections (data_corrected events): Sam is found by a corrected email
    as by the first one, and the export shows it as last held; a correction of the victim's name
    on Sam's case, and the name it replaced (kept in the event's detail), are both redacted."""
    sams = sams_cases(session)
    case = session.scalar(select(Case).where(Case.reference == sams.as_applicant))
    assert case is not None
    owen = actors.find_officer(session, "owen")
    corrections = [
        ({"applicant": {"email": "sam.new@example.org"}}, {"applicant": {"email": SAM["email"]}}),
        ({"victim": {"name": "Olive Renamed"}}, {"victim": {"name": OTHERS[0]}}),
    ]
    for data, before in corrections:
        records.append_event(
            session,
            case,
            owen,
            "data_corrected",
            data=data,
            detail={"incident": 1, "before": before},
        )
    session.commit()
    ada = actors.find_officer(session, "ada")
    by_new_email = subject_access.search(session, ada, PersonQuery(email="SAM.NEW@example.org"))
    assert _keys(by_new_email) == [(sams.as_applicant, "applicant")]
    done = subject_access.export(session, ada, BY_NAME, [f"{sams.as_applicant}:applicant"], "JSON")
    details = {d["path"]: d["value"] for d in done.document["cases"][0]["details"]}
    assert details["/applicant/email"] == "sam.new@example.org"
    history = done.document["cases"][0]["history"]
    replaced = [
        i for e in history if e["what"] == "Data corrected by a process owner" for i in e["items"]
    ]
    assert [(i["path"], i["about"]) for i in replaced] == [
        ("/applicant/email", "requester"),
        ("/before/applicant/email", "requester"),
        ("/victim/name", "another person"),
        ("/before/victim/name", "another person"),
    ]
    text = subject_access_files.as_json(done.document)
    assert "Olive Renamed" not in text and OTHERS[0] not in text
