"""Slow down password guessing per username and client address, counting atomically.

Each attempt first takes a turn with one conditional UPDATE on its (username, address) row:
the row counts the attempt and, once the allowance is spent, sets when the next one may come
(a delay that doubles with each further failure, up to the window). An attempt that finds the
row waiting is refused before any password check, so concurrent guesses cannot overshoot.
A success clears the row. Nobody elsewhere can slow an officer down: only their own address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trigger_workflow.services.accounts import passwords
from trigger_workflow.store.models import SignInThrottle, UTCDateTime, utcnow

PAIR, ADDRESS = "pair", "address"
TABLE = cast(Table, SignInThrottle.__table__)


@dataclass(frozen=True)
class Throttle:
    """Free failures per username from one address, the address-wide count, the delays."""

    max_failures: int = 5
    address_max_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=15)
    hashing: passwords.Hashing = field(default_factory=passwords.Hashing)

    def delays(self, allowance: int) -> list[tuple[int, timedelta]]:
        """Return (failures, wait after them) from the allowance until the wait reaches the window."""
        steps, wait, failures = [], self.first_delay, allowance
        while wait < self.window:
            steps.append((failures, wait))
            wait, failures = wait * 2, failures + 1
        return steps


@dataclass(frozen=True)
class Turn:
    """An attempt allowed through: how many failures it makes if the password is wrong."""

    failures: int
    allowance: int

    @property
    def slows_down(self) -> bool:
        """Return whether a failure now makes the next attempt wait."""
        return self.failures >= self.allowance


def take_turn(
    session: Session, username: str, address: str, throttle: Throttle
) -> Turn | timedelta:
    """Count this attempt for its username and address; return how long to wait if refused."""
    now = utcnow()
    crowded = _address_failures(session, address, throttle, now) >= throttle.address_max_failures
    # From an address with many recent failures, a username that has already failed from it is
    # slowed from its first failure; one that has not (a real officer) is still checked.
    allowance = 1 if crowded else throttle.max_failures
    session.commit()  # SQLite: start the next transaction with a write, so it waits its turn
    _ensure_row(session, PAIR, username, address)
    c = TABLE.c
    stale = or_(c.last_failure_at.is_(None), c.last_failure_at < _at(now - throttle.window))
    count = case((stale, 1), else_=c.failures + 1)
    waits = [(count == n, _at(now + wait)) for n, wait in throttle.delays(allowance)]
    next_allowed = case(*waits, (count >= allowance, _at(now + throttle.window)), else_=_at(None))
    counted = session.execute(
        update(TABLE)
        .where(_key(PAIR, username, address))
        .where(
            or_(
                c.next_allowed_at <= _at(now),
                # No wait set yet, but a lowered allowance (a crowded address) may be spent.
                and_(
                    c.next_allowed_at.is_(None),
                    or_(
                        stale,
                        c.failures < allowance,
                        c.last_failure_at <= _at(now - throttle.first_delay),
                    ),
                ),
            )
        )
        .values(failures=count, last_failure_at=_at(now), next_allowed_at=next_allowed)
        .returning(c.failures)
    ).scalar()
    if counted is None:
        row = session.scalars(select(SignInThrottle).where(_key(PAIR, username, address))).one()
        session.commit()
        last = row.last_failure_at or now
        waiting = row.next_allowed_at or last + throttle.first_delay
        return max(waiting - now, timedelta(seconds=1))
    session.commit()
    return Turn(int(counted), allowance)


def failed(session: Session, address: str, throttle: Throttle) -> None:
    """Count a failure against the address (any username) and forget failures past the window."""
    now = utcnow()
    _ensure_row(session, ADDRESS, "", address)
    c = TABLE.c
    stale = or_(c.last_failure_at.is_(None), c.last_failure_at < _at(now - throttle.window))
    session.execute(
        update(TABLE)
        .where(_key(ADDRESS, "", address))
        .values(failures=case((stale, 1), else_=c.failures + 1), last_failure_at=_at(now))
    )
    session.execute(
        delete(SignInThrottle).where(SignInThrottle.last_failure_at < now - throttle.window)
    )


def succeeded(session: Session, username: str, address: str) -> None:
    """Forget the failures of this username from this address (no commit)."""
    session.execute(delete(SignInThrottle).where(_key(PAIR, username, address)))


def clear(session: Session, username: str) -> int:
    """Let an officer sign in again from everywhere at once (an administrator's unlock)."""
    result = session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.scope == PAIR, SignInThrottle.username == username.lower()
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Standing:
    """An officer's recent failures, for the administrators' page."""

    failures: int
    addresses: int
    waiting_until: datetime | None


def standing(session: Session, username: str, throttle: Throttle) -> Standing:
    """Return the recent failures for a username, across addresses, and the latest wait."""
    since = utcnow() - throttle.window
    rows = session.scalars(
        select(SignInThrottle).where(
            SignInThrottle.scope == PAIR,
            SignInThrottle.username == username.lower(),
            SignInThrottle.last_failure_at >= since,
        )
    ).all()
    waits = [r.next_allowed_at for r in rows if r.next_allowed_at and r.next_allowed_at > utcnow()]
    return Standing(sum(r.failures for r in rows), len(rows), max(waits, default=None))


def describe_wait(wait: timedelta) -> str:
    """Say how long to wait in whole seconds, or minutes past a minute: '45 seconds'."""
    seconds = math.ceil(wait.total_seconds())
    if seconds <= 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def _address_failures(session: Session, address: str, throttle: Throttle, now: datetime) -> int:
    found = session.scalar(
        select(SignInThrottle.failures).where(
            _key(ADDRESS, "", address), SignInThrottle.last_failure_at >= now - throttle.window
        )
    )
    return found or 0


def _ensure_row(session: Session, scope: str, username: str, address: str) -> None:
    """Insert the key's row unless it is there (one statement, safe when two race)."""
    values = {"scope": scope, "username": username, "address": address, "failures": 0}
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(SignInThrottle).values(**values).on_conflict_do_nothing())


def _key(scope: str, username: str, address: str) -> Any:
    return and_(
        SignInThrottle.scope == scope,
        SignInThrottle.username == username,
        SignInThrottle.address == address,
    )


def _at(moment: datetime | None) -> Any:
    return literal(moment, UTCDateTime())
