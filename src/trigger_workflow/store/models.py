"""Define the tables: process versions, cases, open tasks, events, officers, case views."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
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
    workflow_state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    events_recorded: Mapped[int] = mapped_column(Integer, default=0)

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
        Index("ix_open_task_assignee_due", "assignee", "due_on"),
        # The inbox's counts by stage (all, unclaimed, mine, overdue), read from the index alone.
        Index("ix_open_task_team_counts", "role", "agency", "stage", "assignee", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
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


class Officer(Base):
    """Someone who works on cases: a role, and for partner officers an agency."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    agency: Mapped[str | None] = mapped_column(String(50))


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


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a recorded event."""


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _refuse_event_change(mapper: Any, connection: Any, target: Event) -> None:
    raise AppendOnlyError(f"event {target.id} of case {target.case_id} is append-only")
