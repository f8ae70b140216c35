"""Write letters to the applicant when a task that decides something is completed (R5, R13, R17, R19).

``LETTER_AFTER_TASK`` is the one place that says which task's completion sends which letter.
Each letter has one context builder (``letter_content``), reading the case data by the names the
forms give them (``processes/README.md``); every name is read with a default, so a diagram that
leaves one out gives a letter with less in it, never a failed task. Letters print only what is
written for the applicant: the named contact is an officer's name from their account, never the
text an officer typed, and dates are counted from the case's own ``timescales.toml``. The
letter's HTML is kept, with its outbox entry, in the transaction that completes the task; its
PDF is made from that HTML just after (``make_pending_pdfs``, run by the worker) or when first
needed (``ensure_pdf``), so a task completion never waits for it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow import pdf
from trigger_workflow.engine import calendar
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.mail import notifications
from trigger_workflow.services.mail.letter_content import BUILDERS, LARGE_PRINT, text_of
from trigger_workflow.services.process_owners import processes
from trigger_workflow.store.models import Authority, Case, Event, Letter, Officer, OutboxMessage

# Which task's completion sends which letter (task id -> letter kind).
LETTER_AFTER_TASK = {
    "acknowledge_application": "acknowledgement",
    "decide_threshold": "threshold_decision",
    "send_outcome_notice": "outcome",
    "decide_appeal": "appeal_decision",
}
ACKNOWLEDGEMENT_TASK = "acknowledge_application"
NAMED_CONTACT_FALLBACK = "The ASB case review coordinator"
SESSION_INFO_KEY = "trigger_workflow.council"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Opcc:
    """The Office of the Police and Crime Commissioner, to whom applicants appeal (R18)."""

    name: str = "Office of the Police and Crime Commissioner for Derbyshire"
    address: str = "Butterley Hall, Ripley, Derbyshire DE5 3RS"
    email: str = "opcc.appeals@example.gov.uk"
    phone: str = "0300 000 0000"


@dataclass(frozen=True)
class Council:
    """The council's details printed on every letter, and the OPCC's on appeal letters (settings)."""

    name: str = "Derby City Council"
    address: str = "The Council House, Corporation Street, Derby DE1 2FS"
    email: str = "asb.casereview@example.gov.uk"
    phone: str = "01332 000000"
    opcc: Opcc = field(default_factory=Opcc)


def council_from(settings: Any) -> Council:
    """Return the council and OPCC details held in the application's settings."""
    return Council(
        settings.council_name,
        settings.council_address,
        settings.council_email,
        settings.council_phone,
        Opcc(settings.opcc_name, settings.opcc_address, settings.opcc_email, settings.opcc_phone),
    )


def council_of(session: Session) -> Council:
    """Return the council details the session was configured with (see ``configure``)."""
    council = session.info.get(SESSION_INFO_KEY)
    return council if isinstance(council, Council) else Council()


def council_for(session: Session, case: Case) -> Council:
    """Return the heading a case's letters carry: its authority's, with the county's OPCC."""
    configured = council_of(session)
    authority = session.get(Authority, case.authority_id) if case.authority_id else None
    if authority is None:
        return configured
    return Council(
        authority.name,
        authority.address or configured.address,
        authority.email or configured.email,
        authority.phone or configured.phone,
        configured.opcc,
    )


def configure(session_factory: Any, council: Council) -> None:
    """Give every session of a factory the council details that letters are signed with."""
    session_factory.configure(
        info={**session_factory.kw.get("info", {}), SESSION_INFO_KEY: council}
    )


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
    deployed = processes.for_case(case)
    contact = named_contact(session, case, data, actor)
    subject, html = render(kind, data, case, council_for(session, case), deployed, contact)
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
    letter.outbox = _outbox_entry(applicant, notifications.options_of(session).post_by_notify)
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


def render(
    kind: str,
    data: dict[str, Any],
    case: Case,
    council: Council,
    deployed: processes.DeployedProcess,
    contact: str = NAMED_CONTACT_FALLBACK,
) -> tuple[str, str]:
    """Return the subject and the self-contained HTML page of one letter.

    Dates are counted with the working-day calendar from the timescales of ``deployed`` (the
    case's process version); ``contact`` is the named contact's name from officers' records.
    When the application asked for large print, the letter is the large-print variant.
    """
    context = BUILDERS[kind](data, case, deployed)
    applicant = data.get("applicant") or {}
    context |= {
        "council": council,
        "reference": case.reference,
        "today": calendar.today(),
        "recipient": _recipient(applicant),
        "address_lines": _address_lines(applicant),
        "named_contact": contact,
        "large_print": LARGE_PRINT in (data.get("needs") or []),
    }
    html = _templates.get_template(f"{kind}.html").render(**context)
    return f"{context['subject']} ({case.reference})", html


def named_contact(session: Session, case: Case, data: dict[str, Any], actor: Actor) -> str:
    """Return the named contact's name as the officers' records hold it (R5).

    The acknowledgement's ``named_contact`` is what an officer typed: it is printed only when it
    names an officer with an account (by name or username), so a phone number or a note typed
    beside it never reaches the applicant. Otherwise the contact is the officer who acknowledged
    the application, else the officer writing this letter.
    """
    typed = " ".join(text_of(data.get("named_contact")).split()).casefold()
    if typed:
        officer = session.scalars(
            select(Officer).where(
                (func.lower(Officer.display_name) == typed) | (Officer.username == typed)
            )
        ).first()
        if officer is not None:
            return officer.display_name
    acknowledged_by = session.scalar(
        select(Officer.display_name)
        .join(Event, Event.actor == Officer.username)
        .where(Event.case_id == case.id, Event.task_spec == ACKNOWLEDGEMENT_TASK)
        .where(Event.kind == "task_completed")
        .order_by(Event.seq.desc())
        .limit(1)
    )
    return acknowledged_by or actor.display_name or NAMED_CONTACT_FALLBACK


def _recipient(applicant: dict[str, Any]) -> str:
    return text_of(applicant.get("name")) or "The applicant"


def for_case(session: Session, case_id: int) -> list[Letter]:
    """Return a case's letters with their outbox entries, oldest first."""
    query = select(Letter).where(Letter.case_id == case_id).order_by(Letter.id)
    return list(session.scalars(query))


def _outbox_entry(applicant: dict[str, Any], post_by_notify: bool = False) -> OutboxMessage:
    """Email when the applicant chose email and gave an address; otherwise print and post
    (or, when configured, give it to GOV.UK Notify to print and post: channel ``post``)."""
    email = text_of(applicant.get("email"))
    # The postal address is kept either way: a person may print an email that could not be sent.
    address = "\n".join([text_of(applicant.get("name")), *_address_lines(applicant)]).strip()
    post = "post" if post_by_notify else "print"
    channel = "email" if applicant.get("preferred_contact") == "email" and email else post
    return OutboxMessage(
        channel=channel,
        recipient_email=email or None,
        postal_address=address or None,
        status="queued",
        attempts=0,
    )


def _address_lines(person: dict[str, Any]) -> list[str]:
    lines = [line.strip() for line in text_of(person.get("address")).splitlines() if line.strip()]
    postcode = text_of(person.get("postcode"))
    return [*lines, postcode] if postcode else lines
