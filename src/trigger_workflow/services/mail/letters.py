"""Write letters to the applicant when a task that decides something is completed (R5, R13, R17, R19).

``LETTER_AFTER_TASK`` is the one place that says which task's completion sends which letter.
Each letter has one context builder below, reading the case data by the names the forms give
them (``processes/README.md``); every name is read with a default, so a diagram that leaves one
out gives a letter with less in it, never a failed task. The letter's HTML is kept, with its
outbox entry, in the transaction that completes the task; its PDF is made from that HTML just
after (``make_pending_pdfs``, run by the worker) or when first needed (``ensure_pdf``), so a
task completion never waits for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow import pdf
from trigger_workflow.engine import calendar
from trigger_workflow.services.accounts.actors import AGENCIES, Actor
from trigger_workflow.store.models import Case, Letter, OutboxMessage

# Which task's completion sends which letter (task id -> letter kind).
LETTER_AFTER_TASK = {
    "acknowledge_application": "acknowledgement",
    "decide_threshold": "threshold_decision",
    "send_outcome_notice": "outcome",
    "decide_appeal": "appeal_decision",
}
APPEAL_WINDOW_WORKING_DAYS = 20  # R18
SESSION_INFO_KEY = "trigger_workflow.council"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Council:
    """The council's details printed on every letter (from settings)."""

    name: str = "Derby City Council"
    address: str = "The Council House, Corporation Street, Derby DE1 2FS"
    email: str = "asb.casereview@example.gov.uk"
    phone: str = "01332 000000"


def council_from(settings: Any) -> Council:
    """Return the council details held in the application's settings."""
    return Council(
        settings.council_name,
        settings.council_address,
        settings.council_email,
        settings.council_phone,
    )


def council_of(session: Session) -> Council:
    """Return the council details the session was configured with (see ``configure``)."""
    council = session.info.get(SESSION_INFO_KEY)
    return council if isinstance(council, Council) else Council()


def configure(session_factory: Any, council: Council) -> None:
    """Give every session of a factory the council details that letters are signed with."""
    session_factory.configure(info={SESSION_INFO_KEY: council})


_templates = Environment(
    loader=PackageLoader("trigger_workflow", "templates/letters"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def write_after_task(
    session: Session, case: Case, task_spec: str, task_id: str, data: dict[str, Any], actor: Actor
) -> Letter | None:
    """Write the letter this task's completion sends, with its outbox entry; None if it sends none."""
    kind = LETTER_AFTER_TASK.get(task_spec)
    if kind is None:
        return None
    subject, html = render(kind, data, case, council_of(session))
    applicant = data.get("applicant") or {}
    letter = Letter(
        case_id=case.id,
        kind=kind,
        task_id=task_id,
        subject=subject,
        recipient_name=_recipient(applicant),
        html=html,
        html_sha256=hashlib.sha256(html.encode()).hexdigest(),
        created_by=actor.username,
    )
    letter.outbox = _outbox_entry(applicant)
    session.add(letter)
    return letter


def ensure_pdf(session: Session, letter: Letter) -> bytes:
    """Return the letter's PDF, making and keeping it first if it has none yet.

    Made from the kept HTML, and stored only if no one stored one meanwhile: every copy
    downloaded, emailed or printed is the same file (the caller commits).
    """
    if letter.pdf_sha256 is None:
        document = pdf.html_to_pdf(letter.html)
        session.execute(
            update(Letter)
            .where(Letter.id == letter.id, Letter.pdf_sha256.is_(None))
            .values(pdf=document, pdf_sha256=hashlib.sha256(document).hexdigest())
            .execution_options(synchronize_session=False)
        )
        session.refresh(letter, ["pdf", "pdf_sha256"])
    assert letter.pdf is not None
    return letter.pdf


def make_pending_pdfs(sessions: sessionmaker[Session], limit: int = 100) -> int:
    """Make the PDFs of letters written since the last pass, one transaction each; return how many
    were made."""
    with sessions() as session:
        pending = list(
            session.scalars(
                select(Letter.id)
                .where(Letter.pdf_sha256.is_(None))
                .order_by(Letter.id)
                .limit(limit)
            )
        )
    made = 0
    for letter_id in pending:
        # One letter that will not render is logged and tried again next pass; the rest go on.
        try:
            with sessions() as session:
                letter = session.get(Letter, letter_id)
                if letter is not None:
                    ensure_pdf(session, letter)
                    session.commit()
                    made += 1
        except Exception:
            log.exception("Could not make the PDF of letter %s", letter_id)
    return made


def render(kind: str, data: dict[str, Any], case: Case, council: Council) -> tuple[str, str]:
    """Return the subject and the self-contained HTML page of one letter."""
    context = BUILDERS[kind](data, case)
    applicant = data.get("applicant") or {}
    context |= {
        "council": council,
        "reference": case.reference,
        "today": calendar.today(),
        "recipient": _recipient(applicant),
        "address_lines": _address_lines(applicant),
        "named_contact": _text(data.get("named_contact")) or "The ASB case review coordinator",
    }
    html = _templates.get_template(f"{kind}.html").render(**context)
    return f"{context['subject']} ({case.reference})", html


def _recipient(applicant: dict[str, Any]) -> str:
    return _text(applicant.get("name")) or "The applicant"


def for_case(session: Session, case_id: int) -> list[Letter]:
    """Return a case's letters with their outbox entries, oldest first."""
    query = select(Letter).where(Letter.case_id == case_id).order_by(Letter.id)
    return list(session.scalars(query))


def _outbox_entry(applicant: dict[str, Any]) -> OutboxMessage:
    """Email when the applicant chose email and gave an address; otherwise print and post."""
    email = _text(applicant.get("email"))
    # The postal address is kept either way: a person may print an email that could not be sent.
    address = "\n".join([_text(applicant.get("name")), *_address_lines(applicant)]).strip()
    channel = "email" if applicant.get("preferred_contact") == "email" and email else "print"
    return OutboxMessage(
        channel=channel,
        recipient_email=email or None,
        postal_address=address or None,
        status="queued",
        attempts=0,
    )


def acknowledgement(data: dict[str, Any], case: Case) -> dict[str, Any]:
    """Build the acknowledgement (R5): reference, named contact, what happens next."""
    return {
        "subject": "We have received your application for an ASB case review",
        "received_on": case.received_on,
        "decision_by": calendar.add_working_days(case.received_on, 10),
    }


def threshold_decision(data: dict[str, Any], case: Case) -> dict[str, Any]:
    """Build the threshold decision (R13): met, not met with reasons, or rejected with the ground."""
    outcome = data.get("threshold_outcome") or "not_met"
    subjects = {
        "met": "Your application meets the threshold for an ASB case review",
        "not_met": "Your application does not meet the threshold for an ASB case review",
        "rejected": "We cannot accept your application for an ASB case review",
    }
    # The rules branch's diagrams say which signposting applies (R11, R12); without that list,
    # every route is given whenever no review follows.
    chosen = data.get("signposting")
    if isinstance(chosen, list):
        signposting = [s for s in chosen if s in SIGNPOSTS]
    else:
        signposting = [] if outcome == "met" else list(SIGNPOSTS)
    return {
        "subject": subjects.get(outcome, subjects["not_met"]),
        "outcome": outcome,
        "reasons": _text(data.get("threshold_reasons")),
        "ground": REJECTION_GROUNDS.get(data.get("rejection_ground") or "", ""),
        "signposting": signposting,
        "discretion": [
            DISCRETION_FACTORS[f]
            for f in data.get("discretion_factors") or []
            if f in DISCRETION_FACTORS
        ]
        if data.get("threshold_basis") == "discretion"
        else [],
    }


def outcome(data: dict[str, Any], case: Case) -> dict[str, Any]:
    """Build the outcome notice (R17) with the recommendations and the appeal deadline (R18)."""
    sent_on = _date(data.get("outcome_sent_on")) or calendar.today()
    return {
        "subject": "The outcome of your ASB case review",
        "summary": _text(data.get("outcome_summary")),
        "recommendations": [
            {
                "agency": AGENCIES.get(r.get("agency", ""), r.get("agency", "")),
                "action": _text(r.get("action")),
                "target_date": _date(r.get("target_date")),
            }
            for r in data.get("recommendations") or []
            if isinstance(r, dict)
        ],
        "appeal_by": calendar.add_working_days(sent_on, APPEAL_WINDOW_WORKING_DAYS),
    }


def appeal_decision(data: dict[str, Any], case: Case) -> dict[str, Any]:
    """Build the appeal decision (R19): confirmed, or upheld and referred back for a fresh review."""
    return {
        "subject": "The decision on your ASB case review appeal",
        "decision": data.get("appeal_decision") or "confirmed",
        "findings": _text(data.get("appeal_findings")),
    }


BUILDERS: dict[str, Callable[[dict[str, Any], Case], dict[str, Any]]] = {
    "acknowledgement": acknowledgement,
    "threshold_decision": threshold_decision,
    "outcome": outcome,
    "appeal_decision": appeal_decision,
}
SIGNPOSTS = ("reporting_routes", "complaints_procedure", "housing_ombudsman")
DISCRETION_FACTORS = {
    "persistence": "how persistent the behaviour has been",
    "harm": "the harm, or potential harm, it causes",
    "response_adequacy": "whether the response to it so far has been adequate",
}
REJECTION_GROUNDS = {
    "prejudicial": "the application is prejudicial",
    "discriminatory": "the application is discriminatory",
    "malicious": "the application is malicious",
    "unreasonable": "the application is unreasonable",
    "vexatious": "the application is vexatious",
    "anonymous": "the application is anonymous",
    "incomplete": "the application is incomplete",
    "no_consent": "the application was made for someone else without their consent",
}


def _address_lines(person: dict[str, Any]) -> list[str]:
    lines = [line.strip() for line in _text(person.get("address")).splitlines() if line.strip()]
    postcode = _text(person.get("postcode"))
    return [*lines, postcode] if postcode else lines


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
