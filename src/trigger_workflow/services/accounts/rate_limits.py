"""Count requests per key in a fixed window, atomically (the pattern of ``throttle.py``).

Each request takes a turn with one conditional UPDATE on its key's row: it is counted only while
the window's allowance lasts (or the window has passed, which starts a new one), so concurrent
requests cannot overshoot. Rows of windows long past are deleted as requests come.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trigger_workflow.store.models import RateLimit, UTCDateTime, utcnow

TABLE = cast(Table, RateLimit.__table__)


def take(
    session: Session, scope: str, key: str, allowance: int, window: timedelta
) -> timedelta | None:
    """Count one request for the key; return None if allowed, else how long until it would be.

    Commits: the count stands whether or not what the request asked for succeeds.
    """
    now, key = utcnow(), key[:100]
    session.commit()  # SQLite: start the next transaction with a write, so it waits its turn
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(RateLimit)
        .values(scope=scope, key=key, count=0, window_started_at=now)
        .on_conflict_do_nothing()
    )
    c = TABLE.c
    at_now = literal(now, UTCDateTime())
    stale = c.window_started_at <= literal(now - window, UTCDateTime())
    counted = session.execute(
        update(TABLE)
        .where(and_(c.scope == scope, c.key == key))
        .where(or_(stale, c.count < allowance))
        .values(
            count=case((stale, 1), else_=c.count + 1),
            window_started_at=case((stale, at_now), else_=c.window_started_at),
        )
        .returning(c.count)
    ).scalar()
    if counted is None:
        started = session.scalar(
            select(RateLimit.window_started_at).where(
                RateLimit.scope == scope, RateLimit.key == key
            )
        )
        session.commit()
        return max((started or now) + window - now, timedelta(seconds=1))
    session.execute(
        delete(RateLimit).where(
            RateLimit.scope == scope, RateLimit.window_started_at < now - 2 * window
        )
    )
    session.commit()
    return None
