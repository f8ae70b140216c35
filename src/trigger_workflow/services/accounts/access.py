"""Who may see which cases and which agencies' answers (R22): the one place that says so."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from trigger_workflow.errors import NotFound, NotPermitted
from trigger_workflow.services.accounts.actors import AGENCIES, PARTNER, PROCESS_OWNER, Actor
from trigger_workflow.services.audit import access_log
from trigger_workflow.store.models import Case, CaseAgency, OpenTask

# Roles that see every case: the coordinator owns them all; the chair and the OPCC act on them;
# the auditor reads them (every view logged). Partners see the cases shared with their agency.
ALL_CASES = frozenset({"coordinator", "chair", "opcc", "auditor"})


def require_process_owner(actor: Actor | None, doing: str) -> Actor:
    """Return the actor if a process owner, else refuse: only they handle the process itself
    (its versions, checks and incidents). `doing` completes "Only a process owner may …"."""
    if actor is None or actor.role != PROCESS_OWNER:
        raise NotPermitted(f"Only a process owner may {doing}.")
    return actor


def may_list_cases(actor: Actor) -> bool:
    """Return whether this officer's role sees cases at all."""
    return actor.role in ALL_CASES or (actor.role == PARTNER and actor.agency is not None)


def in_authorities(actor: Actor) -> ColumnElement[bool]:
    """Return a condition on Case: the cases of the authorities this officer serves (issue 12).

    Every query of cases, tasks, letters and figures for an officer goes through this (or
    `visible_cases`, which includes it): staff see their own authority's (and granted ones');
    a county-wide officer is restricted to none.
    """
    if actor.authorities is None:
        return true()
    return Case.authority_id.in_(sorted(actor.authorities))


def of_visible_authorities(actor: Actor, case_id: Any) -> list[ColumnElement[bool]]:
    """Return conditions on a row's case id (a task's, a letter's…): its case is of an authority
    this officer serves. Nothing for a county-wide officer."""
    if actor.authorities is None:
        return []
    return [case_id.in_(select(Case.id).where(in_authorities(actor)))]


def tasks_in_authorities(actor: Actor) -> list[ColumnElement[bool]]:
    """Return conditions on OpenTask: the open tasks of cases of the authorities this officer
    serves, read from the task's own copy of its case's authority (one index, no join).
    Nothing for a county-wide officer."""
    if actor.authorities is None:
        return []
    return [OpenTask.authority_id.in_(sorted(actor.authorities))]


def serves(actor: Actor, case: Case) -> bool:
    """Return whether a case belongs to an authority this officer serves."""
    return actor.authorities is None or case.authority_id in actor.authorities


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """Return a condition on Case: the cases this officer may see."""
    if actor.role in ALL_CASES:
        return in_authorities(actor)
    if actor.role == PARTNER and actor.agency:
        shared = select(CaseAgency.case_id).where(CaseAgency.agency == actor.agency)
        return and_(in_authorities(actor), Case.id.in_(shared))
    return Case.id.is_(None)  # nothing


def may_see_case(session: Session, actor: Actor, case: Case) -> bool:
    """Return whether this officer may see this case."""
    if not serves(actor, case):
        return False
    if actor.role in ALL_CASES:
        return True
    if actor.role == PARTNER and actor.agency:
        return session.get(CaseAgency, (case.id, actor.agency)) is not None
    return False


def require_case(session: Session, actor: Actor, case: Case) -> None:
    """Refuse a role that sees no cases (403); say a case not shared with a partner is not there."""
    if not may_list_cases(actor):
        raise NotPermitted(f"{actor.role.replace('_', ' ').capitalize()}s do not see cases.")
    if not may_see_case(session, actor, case):
        # The same answer as for a case that does not exist: its existence is private too.
        raise NotFound(f"There is no case {case.reference}.")


def case_for(session: Session, actor: Actor, reference: str) -> Case:
    """Return the case with this reference if this officer may see it (else 403 or 404)."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"There is no case {reference}.")
    require_case(session, actor, case)
    return case


def view_case(session: Session, actor: Actor, case: Case, what: str) -> None:
    """Check the officer may see the case, and log the view of its personal data (R22)."""
    require_case(session, actor, case)
    if access_log.record_view(session, case.id, actor, what):
        session.commit()


def view_cases(session: Session, actor: Actor, cases: Iterable[Case], what: str) -> None:
    """Log that this officer saw these cases listed with personal data (R22)."""
    logged = [access_log.record_view(session, case.id, actor, what) for case in cases]
    if any(logged):
        session.commit()


def agencies_named(data: dict[str, Any]) -> set[str]:
    """Return the agencies a task's answers bring into a case: chosen, or owning an action."""
    named: set[str] = set()
    chosen = data.get("agencies")
    if isinstance(chosen, list):
        named.update(a for a in chosen if isinstance(a, str))
    recommendations = data.get("recommendations")
    if isinstance(recommendations, list):
        named.update(
            r["agency"]
            for r in recommendations
            if isinstance(r, dict) and isinstance(r.get("agency"), str)
        )
    return {a for a in named if a in AGENCIES}


def share_case(session: Session, case: Case, agencies: Iterable[str]) -> None:
    """Share a case with these agencies (in the caller's transaction); once shared, it stays."""
    wanted = set(agencies)
    if not wanted:
        return
    have = set(session.scalars(select(CaseAgency.agency).where(CaseAgency.case_id == case.id)))
    for agency in sorted(wanted - have):
        session.add(CaseAgency(case_id=case.id, agency=agency))


def shared_with(session: Session, case: Case) -> list[str]:
    """Return the agencies a case is shared with, by name."""
    query = select(CaseAgency.agency).where(CaseAgency.case_id == case.id)
    return sorted(session.scalars(query))


# R22 for the agencies' answers to information requests: each agency reads its own; the
# coordinator (who runs the review), the review chair (who weighs them) and auditors (every view
# logged) read all; anyone else who sees the case sees only that an agency answered, and when.
ALL_ANSWERS = frozenset({"coordinator", "chair", "auditor"})
ANSWER, ANSWERS = "information_response", "information_responses"  # names in the case's data
ANSWER_AUDIENCE = (
    "Your answer will be seen by the council's case review coordinator and the review chair. "
    "Other agencies will not see it. Auditors may read it; each time they do is recorded."
)


def may_read_answer(actor: Actor, agency: str | None) -> bool:
    """Return whether this officer may read an agency's answer to an information request."""
    if actor.role in ALL_ANSWERS:
        return True
    return actor.role == PARTNER and actor.agency is not None and agency == actor.agency


def answer_agency(data: dict[str, Any], agency: str | None = None) -> str | None:
    """Return the agency an answer in this data is from: its own tag, else the task's agency."""
    answer = data.get(ANSWER)
    tagged = answer.get("agency") if isinstance(answer, dict) else None
    if isinstance(tagged, str):
        return tagged
    own = data.get("agency")
    return own if isinstance(own, str) else agency


def readable_answers(actor: Actor, data: dict[str, Any], agency: str | None = None) -> Redacted:
    """Return the data with the answers this officer may not read taken out, and whose they were.

    `agency` is the agency of the task the data belongs to (an answer event's answering agency),
    for an answer not tagged with its own.
    """
    kept = dict(data)
    withheld: list[str] = []
    if ANSWER in kept:
        owner = answer_agency(kept, agency)
        if not may_read_answer(actor, owner):
            del kept[ANSWER]
            withheld.append(owner or "unknown")
    answers = kept.get(ANSWERS)
    if isinstance(answers, list):
        visible = []
        for item in answers:
            owner = item.get("agency") if isinstance(item, dict) else None
            if may_read_answer(actor, owner if isinstance(owner, str) else None):
                visible.append(item)
            else:
                withheld.append(owner if isinstance(owner, str) else "unknown")
        kept[ANSWERS] = visible
    return Redacted(kept, withheld)


@dataclass(frozen=True)
class Redacted:
    """Data as one officer may read it, and the agencies whose answers were taken out."""

    data: dict[str, Any]
    withheld: list[str]


# Each role's own work, as the web layer's endpoint names; everyone else starts at their tasks.
HOMES = {
    "auditor": "audit.index",
    "process_owner": "process_versions.index",
    "administrator": "admin.officers",
}


def home_for(actor: Actor) -> str:
    """Return the page (endpoint) an officer starts on after signing in: their role's own work."""
    return HOMES.get(actor.role, "tasks.inbox")
