"""The public form's answers kept server-side between its pages, under a random id, until expiry.

The applicant's session cookie holds only the draft's id: no answer travels in a URL or a cookie.
A draft lives ``LIFETIME`` after it was last saved (long enough for someone who needs breaks:
WCAG 2.2.1 allows a 20-hour limit), then it and its answers are deleted.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from trigger_workflow.errors import FieldProblem
from trigger_workflow.store.models import ApplicationDraft

LIFETIME = timedelta(hours=24)


def _now() -> datetime:
    return datetime.now(UTC)


def start(session: Session) -> ApplicationDraft:
    """Open a new, empty draft (and delete the expired ones)."""
    session.execute(delete(ApplicationDraft).where(ApplicationDraft.expires_at < _now()))
    draft = ApplicationDraft(
        id=secrets.token_urlsafe(32),
        data={},
        pending={},
        submission_key=secrets.token_urlsafe(16),
        expires_at=_now() + LIFETIME,
    )
    session.add(draft)
    session.commit()
    return draft


def find(session: Session, draft_id: Any) -> ApplicationDraft | None:
    """Return the draft with this id, unless there is none or it has expired."""
    if not isinstance(draft_id, str) or not draft_id:
        return None
    draft = session.get(ApplicationDraft, draft_id)
    if draft is None or draft.expires_at < _now():
        return None
    return draft


def save(
    session: Session,
    draft: ApplicationDraft,
    data: dict[str, Any],
    extra_rows: dict[str, int] | None = None,
) -> None:
    """Keep these answers (and rows just added) and give the draft its full lifetime again."""
    draft.data = data
    draft.pending = {"extra_rows": extra_rows} if extra_rows else {}
    draft.expires_at = _now() + LIFETIME
    session.commit()


def refuse(session: Session, draft: ApplicationDraft, problems: list[FieldProblem]) -> None:
    """Keep why the application was refused, to show beside the questions concerned."""
    draft.pending = {"problems": [[list(p.path), p.message] for p in problems]}
    session.commit()


def take_pending(
    session: Session, draft: ApplicationDraft
) -> tuple[list[FieldProblem], dict[str, int]]:
    """Return (and clear) the refusal and the added rows the next page view must show."""
    pending = draft.pending or {}
    problems = [FieldProblem(tuple(path), str(text)) for path, text in pending.get("problems", [])]
    extra_rows = {str(k): int(v) for k, v in (pending.get("extra_rows") or {}).items()}
    if pending:
        draft.pending = {}
        session.commit()
    return problems, extra_rows


def sent(session: Session, draft: ApplicationDraft, reference: str) -> None:
    """Forget the answers of a sent draft; keep its reference, so sending again shows it."""
    draft.data = {}
    draft.pending = {}
    draft.reference = reference
    session.commit()
