"""Define the tables: authorities, process versions, cases, open tasks, events, officers, case
views, incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from trigger_workflow.store import chain


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC; SQLite forgets the time zone, so it is put back when read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return the stored moment as an aware UTC datetime."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Base class of every table."""

    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class Authority(Base):
    """A council the service runs the community trigger for: its cases, staff and letters' heading.

    A county's councils share one deployment; each case and each staff member belongs to one.
    Left empty (None), a local setting follows the county's (the deployed process's) default.
    """

    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. "chesterfield", for the CLI
    name: Mapped[str] = mapped_column(String(200))
    reference_prefix: Mapped[str] = mapped_column(String(8), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    logo_file: Mapped[str | None] = mapped_column(String(200))
    threshold_number: Mapped[int | None]  # R6/R8: the local number, never above the Act's 3
    threshold_window_months: Mapped[int | None]  # never above the Act's six months
    # Working days per step, by task name; empty: follow the county's timescales.
    timescales: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The agencies that take part locally; None: every agency.
    agencies: Mapped[list[str] | None] = mapped_column(JSON)
    # The process version new cases take; None: follow the default (the newest deployment).
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    # Years a closed case's personal data is kept (issue 13); None: the service's default (6).
    retention_years: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthorityCounter(Base):
    """The last case number an authority gave out in a year, for references like CHF-2026-0001."""

    __tablename__ = "authority_counter"

    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class OfficerAuthority(Base):
    """An officer granted the cases of an authority besides their own."""

    __tablename__ = "officer_authority"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), primary_key=True)


class ProcessVersion(Base):
    """A deployed set of diagrams, decision tables and forms, stored once per content hash."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("process_id", "number"),
        UniqueConstraint("process_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    # Loaded only when asked for: a case needs its version's id and hash far more often than its
    # files (about 100 KB) or spec (about 40 KB), which the process cache keeps once parsed.
    files: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    spec: Mapped[str] = mapped_column(Text, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(20))
    deployed_by: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """One Community Trigger application and the workflow running it."""

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_status_stage", "status", "stage"),
        Index("ix_case_timer_due_at", "timer_due_at"),
        # The case list: newest change first, a page at a time.
        Index("ix_case_updated_at", "updated_at"),
        # The retention schedule: closed cases, oldest closure first.
        Index("ix_case_closed_at", "status", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # The council the case belongs to (issue 12); every case has one once migrated. Its open
    # tasks carry a copy (OpenTask.authority_id): set when written, and a case never changes council.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    status: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(100))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    applicant_postcode: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    timer_due_at: Mapped[datetime | None]
    # When the case last closed (its retention counts from here), and when its personal data
    # was erased under the retention schedule (issue 13).
    closed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    # The council's threshold number, window and timescales the case runs under, taken from its
    # settings when received (services/casework/local_rules.py); None: the county's.
    local_rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    workflow_state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    events_recorded: Mapped[int] = mapped_column(Integer, default=0)
    # The hash of the case's last event: the head of its chain, so a deleted last event shows.
    last_event_hash: Mapped[str] = mapped_column(String(64), default="")

    process_version: Mapped[ProcessVersion] = relationship()
    open_tasks: Mapped[list[OpenTask]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="OpenTask.created_at"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class OpenTask(Base):
    """A human task waiting for an officer: the inbox reads these, never the workflow state."""

    __tablename__ = "open_task"
    __table_args__ = (
        # A partner agency's list: role, agency, soonest due first.
        Index("ix_open_task_role_agency_due", "role", "agency", "due_on", "created_at"),
        # Everyone else's list (tasks with no agency): the same walk; PostgreSQL cannot use
        # "agency IS NULL" to read the index above in order, so it gets a partial index of its own.
        Index(
            "ix_open_task_role_due_unscoped",
            "role",
            "due_on",
            "created_at",
            postgresql_where=text("agency IS NULL"),
            sqlite_where=text("agency IS NULL"),
        ),
        # The same two walks for an officer of one council (issue 12): her council's tasks only,
        # soonest due first, without visiting the other councils' tasks or their cases.
        Index(
            "ix_open_task_role_agency_authority_due",
            "role",
            "agency",
            "authority_id",
            "due_on",
            "created_at",
        ),
        Index(
            "ix_open_task_role_authority_due_unscoped",
            "role",
            "authority_id",
            "due_on",
            "created_at",
            postgresql_where=text("agency IS NULL"),
            sqlite_where=text("agency IS NULL"),
        ),
        Index("ix_open_task_assignee_due", "assignee", "due_on"),
        # The inbox's counts by stage (all, unclaimed, mine, overdue), read from the index alone,
        # for a council's officer (role, agency, authority) or a county-wide one (role, agency).
        Index(
            "ix_open_task_team_counts",
            "role",
            "agency",
            "authority_id",
            "stage",
            "assignee",
            "due_on",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    # The case's council, copied when the row is written (issue 12): an officer's inbox is scoped
    # by it along one index instead of through the case.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    task_spec: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(100))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(50))
    agency: Mapped[str | None] = mapped_column(String(50))
    assignee: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]  # when the assignee claimed it, or was given it
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="open_tasks")


class Event(Base):
    """One thing that happened to a case: append-only, enough to replay the case."""

    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    __allow_unmapped__ = True  # for `salts` below, which is not a column

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    seq: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_spec: Mapped[str | None] = mapped_column(String(100))
    task_name: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Which leaves of data and detail are personal, and whose ({"data": {"/applicant/name":
    # "applicant"}, "detail": {...}}): the hash commits to those by salted digests (issue 13), so
    # they can be erased and the chain still verified. None on events recorded before that.
    personal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Tamper evidence (store/chain.py): the previous event's hash, and this one's over both.
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    # The salts a new event was sealed with, for the check just before it is written; never stored.
    salts: dict[str, bytes] | None = None


class Officer(Base):
    """Someone who works on cases: a role, and for partner officers an agency."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    agency: Mapped[str | None] = mapped_column(String(50))
    # Sign-in (issue 4): an argon2 hash (none: the officer cannot sign in with a password) and
    # disabled accounts. Their sessions are rows of officer_session (issue 11).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Notifications (issue 14): where the officer's task emails go, and whether they want them.
    email: Mapped[str | None] = mapped_column(String(254))
    task_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    # Staff belong to one authority (and see others by grant, officer_authority); a county-wide
    # officer (the police, the OPCC, a county team) is restricted to no authority.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    county_wide: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    authority: Mapped[Authority | None] = relationship()
    granted: Mapped[list[OfficerAuthority]] = relationship(cascade="all, delete-orphan")


class CaseView(Base):
    """One view of a case's personal data by a partner officer or an auditor (R22)."""

    __tablename__ = "case_view"
    __table_args__ = (Index("ix_case_view_case_viewed", "case_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(50))
    agency: Mapped[str | None] = mapped_column(String(50))
    what: Mapped[str] = mapped_column(String(200))


class ReferenceCounter(Base):
    """The last case number given out in each year, for references like CT-2026-0001."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class ProcessDeployment(Base):
    """One deployment of a process version: the newest one names the version new cases take.

    Deploying new content adds a version and a deployment; deploying the content of an earlier
    version (a rollback) adds only a deployment of that version, so versions stay one per content.
    """

    __tablename__ = "process_deployment"
    __table_args__ = (Index("ix_process_deployment_process", "process_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    # The council a process owner of it deployed the version for (its new cases take it);
    # None: the county's deployment, which councils following the county take (issue 12).
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    deployed_by: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))

    process_version: Mapped[ProcessVersion] = relationship()


class CaseAgency(Base):
    """A partner agency a case is shared with (R22): chosen for its review or owning an action."""

    __tablename__ = "case_agency"
    __table_args__ = (Index("ix_case_agency_agency", "agency", "case_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    agency: Mapped[str] = mapped_column(String(50), primary_key=True)
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)


class Recommendation(Base):
    """A review's recommendation (R16): its owning agency updates progress until it is done."""

    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint("case_id", "review", "number"),
        Index("ix_recommendation_agency_status", "agency", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    review: Mapped[int]  # 1 for the first review, 2 for a fresh review after an upheld appeal
    number: Mapped[int]  # its place in the meeting's list, from 1
    agency: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(Text)
    target_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    progress: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()


class Document(Base):
    """A file uploaded with an application (e.g. a signed consent form), stored outside the web root.

    The bytes live in the instance folder under a generated name; the row keeps what the person
    called it, the type found from its content (never its name), its size and its SHA-256.
    A document uploaded with a form that was not yet accepted has no case: the form keeps its
    token, and the document is linked to the case in the transaction that creates the case.
    """

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_client_address", "client_address", "uploaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(50))
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    # Where an anonymous upload came from, to limit uploads per client (issue 11); None for
    # officers' uploads and uploads kept before the limit existed.
    client_address: Mapped[str | None] = mapped_column(String(64))


class Letter(Base):
    """A letter to the applicant, kept as sent: its HTML, its PDF and their hashes."""

    __tablename__ = "letter"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id"),
        Index("ix_letter_pdf_pending", "pdf_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    task_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(300))
    recipient_name: Mapped[str] = mapped_column(String(200))
    html: Mapped[str] = mapped_column(Text)
    html_sha256: Mapped[str] = mapped_column(String(64))
    # The PDF is made from the HTML after the task's transaction (by the worker, or on first
    # download), once: a task completion never waits for it.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    outbox: Mapped[OutboxMessage] = relationship(back_populates="letter", uselist=False)


class OutboxMessage(Base):
    """One message to send: a letter (emailed, printed, or posted by GOV.UK Notify), or a short
    notification (an email or a text message: a stage update, a task alert, a one-time code)."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A letter's delivery has its letter; a notification has none, but its case (if any),
    # purpose, subject and body.
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(10))  # email / sms / print / post (Notify)
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    recipient_phone: Mapped[str | None] = mapped_column(String(30))
    postal_address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # queued / sent / failed / printed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    purpose: Mapped[str | None] = mapped_column(String(30))  # stage / task / escalation / code
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    # GOV.UK Notify's id for what it was given, and the latest delivery receipt it sent back.
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    delivery_status: Mapped[str | None] = mapped_column(String(30))
    delivery_updated_at: Mapped[datetime | None]

    letter: Mapped[Letter | None] = relationship(back_populates="outbox")


class RateLimit(Base):
    """Requests counted in a fixed window per key (a reference, a client address), issue 14.

    One row per key, counted by one conditional UPDATE, so concurrent requests cannot overshoot.
    """

    __tablename__ = "rate_limit"
    __table_args__ = (Index("ix_rate_limit_window", "window_started_at"),)

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime]


class TrackingCode(Base):
    """A one-time code sent to an applicant to see their case (issue 14): only its hash is kept."""

    __tablename__ = "tracking_code"
    __table_args__ = (Index("ix_tracking_code_case_created", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)


class Incident(Base):
    """A case stopped by a failing script, condition, decision or timer, held for a process owner.

    The answers that were being submitted are kept here, so a retry can finish what the officer
    started once the diagram is fixed or the case's data corrected.
    """

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    kind: Mapped[str] = mapped_column(String(20))  # "task" (a submission) or "timer"
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_spec: Mapped[str | None] = mapped_column(String(100))
    task_name: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(100))
    element_name: Mapped[str | None] = mapped_column(String(200))
    line: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))

    case: Mapped[Case] = relationship()


class ApplicationDraft(Base):
    """A public application being filled in over several pages, until sent or expired.

    Its random id is the only thing the applicant's (signed) session cookie holds; once sent,
    the answers are cleared and the case reference kept, so sending twice shows the one case.
    """

    __tablename__ = "application_draft"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pending: Mapped[dict[str, Any]] = mapped_column(default=dict)  # for the next page shown
    submission_key: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(40))
    # The council where the behaviour happens, asked before the form's questions (issue 12).
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CaseSecret(Base):
    """A random salt per case and person (data subject), kept apart from the events (issue 13).

    An event's hash commits to each personal value by an HMAC under its subject's salt. Erasure
    replaces the values by those digests and destroys the salt: the chain still verifies, and
    nobody can test a guess (a name, a postcode) against a digest any more (crypto-shredding).
    """

    __tablename__ = "case_secret"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(30), primary_key=True)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once destroyed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    destroyed_at: Mapped[datetime | None]


class Erasure(Base):
    """One erasure of personal data from a case: under the retention schedule or on request.

    Append-only: `audit verify` reads these to tell an erased value from an altered one.
    """

    __tablename__ = "erasure"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    subjects: Mapped[list[str]] = mapped_column(JSON)
    under: Mapped[str] = mapped_column(String(20))  # "schedule" or "request"
    reason: Mapped[str] = mapped_column(Text)
    erased_by: Mapped[str] = mapped_column(String(100))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What was removed where ({"events": 7, "letters": 3, ...}): counts, never values.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a recorded event."""


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _refuse_event_change(mapper: Any, connection: Any, target: Event) -> None:
    raise AppendOnlyError(f"event {target.id} of case {target.case_id} is append-only")


@event.listens_for(Erasure, "before_update")
@event.listens_for(Erasure, "before_delete")
def _refuse_erasure_change(mapper: Any, connection: Any, target: Erasure) -> None:
    raise AppendOnlyError(f"erasure {target.id} of case {target.case_id} is append-only")


@event.listens_for(Event, "before_insert")
def _refuse_unhashed_change(mapper: Any, connection: Any, target: Event) -> None:
    # An event changed between being hashed (services/records.append_event) and written would
    # be reported as tampered with for ever: refuse to write it.
    content = {name: getattr(target, name) for name in (*chain.CONTENT_FIELDS, "personal")}
    salts = getattr(target, "salts", None)
    if target.hash != chain.event_hash(content, target.prev_hash, salts):
        raise AppendOnlyError(
            f"event {target.seq} of case {target.case_id} changed after it was hashed: "
            "give everything it records to records.append_event"
        )


class OfficerSession(Base):
    """A signed-in session: the cookie holds a random id, this row its hash, so it can be ended."""

    __tablename__ = "officer_session"
    __table_args__ = (
        Index("ix_officer_session_officer", "officer_id", "ended_at"),
        Index("ix_officer_session_started", "started_at"),
    )

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    method: Mapped[str] = mapped_column(String(20))  # password / sso
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(30))


class SignInThrottle(Base):
    """Recent failed sign-ins for one username from one address ("pair"), or from an address.

    One row per key, changed by single conditional UPDATEs, so concurrent guesses are counted
    exactly; failures older than the window count for nothing.
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index("ix_sign_in_throttle_last_failure", "last_failure_at"),)

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # pair / address
    username: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" for an address
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    next_allowed_at: Mapped[datetime | None]


class SecurityEvent(Base):
    """One sign-in, sign-out or administrator's change to an account: append-only, for auditors."""

    __tablename__ = "security_event"
    __table_args__ = (Index("ix_security_event_subject", "subject", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))  # who acted (the username typed, at sign-in)
    subject: Mapped[str] = mapped_column(String(100))  # whose account
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(SecurityEvent, "before_update")
@event.listens_for(SecurityEvent, "before_delete")
def _refuse_security_event_change(mapper: Any, connection: Any, target: SecurityEvent) -> None:
    raise AppendOnlyError(f"security event {target.id} is append-only")


class ApiClient(Base):
    """A system that calls the JSON API (issue 14): a named service account with a role and
    agency like an officer's, and the SHA-256 of its bearer token (the token itself is shown once)."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[str] = mapped_column(String(50))
    agency: Mapped[str | None] = mapped_column(String(50))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    last_used_at: Mapped[datetime | None]
    # Scoped like an officer (issue 12): one authority's cases, or every one's when county-wide.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    county_wide: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
