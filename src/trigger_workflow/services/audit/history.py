"""A case's history for auditors: the timeline step by step, diagrams as they stood, and exports.

Every read of a case here is logged (R22) and committed before the data is returned.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow import diagrams
from trigger_workflow.errors import NotFound, NotPermitted
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.audit import access_log, replay, verify
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store import chain
from trigger_workflow.store.models import Case, CaseView, Event, ProcessVersion

AUDITOR = "auditor"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "kind",
    "task_id",
    "task_spec",
    "task_name",
    "data",
    "detail",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Diagram:
    """One process's diagram with what was completed and what was waiting."""

    process_id: str
    svg: str


@dataclass
class CaseHistory:
    """A case, its events, its chain and replay verdicts, and who has viewed it."""

    case: Case
    events: list[Event]
    chain: verify.CaseVerdict
    replay: replay.Replay
    views: list[CaseView]
    forms: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=dict)
    versions: dict[int, ProcessVersion] = field(default_factory=dict)  # each the case was on


@dataclass
class TimelineStep:
    """The case as it stood at one event: who, when, what they saw and submitted, the diagrams."""

    event: Event
    seen: dict[str, Any] | None
    waiting: list[str]
    diagrams: list[Diagram]


def ensure_auditor(actor: Actor) -> None:
    """Refuse anyone who is not an auditor."""
    if actor.role != AUDITOR:
        raise NotPermitted("Case histories, replays and statutory figures are for auditors.")


def case_history(session: Session, reference: str, actor: Actor, what: str) -> CaseHistory:
    """Return a case's full history for an auditor, logging the view (R22)."""
    ensure_auditor(actor)
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not access.serves(actor, case):  # another authority's case: not there
        raise NotFound(f"There is no case {reference}.")
    events = list(
        session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    )
    rows = [{name: getattr(e, name) for name in verify.EVENT_NAMES} for e in events]
    verdict = verify.check_case(session, case, rows)
    replayed = replay.replay_case(session, reference)
    access_log.record_view(session, case.id, actor, what)
    session.commit()
    history = CaseHistory(case, events, verdict, replayed, access_log.views_of(session, case.id))
    for version_id in {step.version_id for step in replayed.steps}:
        version = session.get(ProcessVersion, version_id)
        if version is not None:
            history.versions[version_id] = version
    deployed = processes.deployed(case.process_version)
    for name, task in deployed.user_tasks.items():
        history.forms[name] = (
            deployed.form(task.form) or processes.EMPTY_FORM,
            deployed.form(task.ui_form),
        )
    return history


def timeline_step(history: CaseHistory, seq: int) -> TimelineStep:
    """Return the case as it stood just after event `seq`, with its diagrams marked."""
    event = next((e for e in history.events if e.seq == seq), None)
    if event is None:
        raise NotFound(f"Case {history.case.reference} has no event {seq}.")
    step = next((s for s in history.replay.steps if s.seq == seq), None)
    if step is None:
        # The replay stopped before this event (it diverged): the record is shown without diagrams.
        return TimelineStep(event, None, [], [])
    sources = _bpmn_sources(history.versions.get(step.version_id, history.case.process_version))
    shown = [processes.MAIN_PROCESS]
    for process_id in (step.process_id, *sorted(step.marks.waiting)):
        if process_id and process_id not in shown:
            shown.append(process_id)
    pictures = [
        Diagram(
            pid,
            diagrams.render_svg(
                sources.get(pid, b""),
                pid,
                step.marks.completed.get(pid, set()),
                step.marks.waiting.get(pid, set()),
            ),
        )
        for pid in shown
    ]
    return TimelineStep(event, step.seen, step.waiting, pictures)


_SOURCES: dict[tuple[str, str], dict[str, bytes]] = {}


def _bpmn_sources(version: ProcessVersion) -> dict[str, bytes]:
    """Return each process id's BPMN file of a version (parsed once per version)."""
    key = (version.process_id, version.content_hash)
    if key not in _SOURCES:
        found: dict[str, bytes] = {}
        for name, text in version.files.items():
            if not name.endswith((".bpmn", ".bpmn20.xml")):
                continue
            raw = text.encode("utf-8")
            try:
                root = etree.fromstring(raw)
            except (etree.XMLSyntaxError, ValueError):
                continue
            for process in root.iter(f"{BPMN_NS}process"):
                found.setdefault(str(process.get("id")), raw)
        _SOURCES[key] = found
    return _SOURCES[key]


def export_rows(history: CaseHistory) -> list[dict[str, Any]]:
    """Return every event as a plain record (times in UTC, ISO 8601)."""
    rows = []
    for event in history.events:
        row = {name: getattr(event, name) for name in EXPORT_COLUMNS}
        row["occurred_at"] = chain.canonical_time(event.occurred_at)
        rows.append(row)
    return rows


def history_json(history: CaseHistory) -> str:
    """Return the case's full history as JSON: the case, every event, the checks and the views."""
    case = history.case
    document = {
        "case": {
            "reference": case.reference,
            "process_id": case.process_version.process_id,
            "process_version": case.process_version.number,
            "received_on": case.received_on.isoformat(),
            "channel": case.channel,
            "status": case.status,
            "stage": case.stage,
            "outcome": case.outcome,
            "events_recorded": case.events_recorded,
            "last_event_hash": case.last_event_hash,
        },
        "chain_intact": history.chain.intact,
        "chain_problems": [p.message for p in history.chain.problems],
        "erasures": [note.message for note in history.chain.erasures],
        "replay_matches": history.replay.matches,
        "replay_erasure_note": history.replay.erasure_note,
        "replay_divergence": history.replay.divergence.message
        if history.replay.divergence
        else None,
        "events": export_rows(history),
        "views": [
            {
                "viewed_at": chain.canonical_time(v.viewed_at),
                "username": v.username,
                "role": v.role,
                "agency": v.agency,
                "what": v.what,
            }
            for v in history.views
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)


def history_csv(history: CaseHistory) -> str:
    """Return the case's events as CSV, one row each; data and detail as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", *EXPORT_COLUMNS])
    for row in export_rows(history):
        writer.writerow(
            [history.case.reference]
            + [
                json.dumps(row[c], ensure_ascii=False, sort_keys=True)
                if c in ("data", "detail")
                else row[c]
                for c in EXPORT_COLUMNS
            ]
        )
    return out.getvalue()


def recent_cases(session: Session, actor: Actor, limit: int = 50) -> list[Case]:
    """Return the most recently changed cases, for an auditor to choose from."""
    ensure_auditor(actor)
    query = select(Case).where(access.in_authorities(actor))
    return list(session.scalars(query.order_by(Case.updated_at.desc()).limit(limit)))
