"""One pass of the worker over letters and uploads: make PDFs, email what is due, forget stale uploads.

Each step works in bounded batches and is guarded on its own: a step that fails is logged and the
next one still runs, so one bad letter never stops the clean-up of uploads (or, in the worker's
loop, the timers). A pass reports whether a batch was full, and the worker runs the next pass at
once instead of sleeping: a busy day's letters are drained in a few minutes, with timers firing
between batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.services.applications import documents
from trigger_workflow.services.mail import letters, outbox
from trigger_workflow.store.models import Letter, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LettersWork:
    """What the pass needs: where to send mail, and where uploads are kept and for how long."""

    server: outbox.MailServer
    storage: documents.Storage
    max_attempts: int = 5
    keep_unclaimed: timedelta = timedelta(hours=24)
    batch: int = outbox.BATCH  # letters per step and pass; the worker goes on while one is full


@dataclass
class LettersPass:
    """What one pass did, and whether work was left for the next pass straight away."""

    pdfs_made: int = 0
    mailed: outbox.SendReport = field(default_factory=outbox.SendReport)
    uploads_forgotten: int = 0
    failed_steps: list[str] = field(default_factory=list)
    more_waiting: bool = False


def run_pass(sessions: sessionmaker[Session], work: LettersWork) -> LettersPass:
    """Run one batch of each step; a step that fails is logged and the others still run."""
    report = LettersPass()
    try:
        report.pdfs_made = letters.make_pending_pdfs(sessions, limit=work.batch)
        # More to do only if this batch made progress: letters that will not render are retried
        # on a later pass, not in a tight loop.
        report.more_waiting |= report.pdfs_made > 0 and _pdfs_pending(sessions)
    except Exception:
        _failed(report, "making PDFs")
    try:
        report.mailed = outbox.send_due(sessions, work.server, work.max_attempts, limit=work.batch)
        handled = report.mailed.sent + report.mailed.retrying + report.mailed.failed
        report.more_waiting |= len(handled) >= work.batch
    except Exception:
        _failed(report, "emailing letters")
    try:
        with sessions() as session:
            report.uploads_forgotten = documents.forget_unclaimed(
                session, work.storage, utcnow() - work.keep_unclaimed
            )
    except Exception:
        _failed(report, "forgetting unclaimed uploads")
    return report


def _pdfs_pending(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return (
            session.scalar(select(Letter.id).where(Letter.pdf_sha256.is_(None)).limit(1))
            is not None
        )


def _failed(report: LettersPass, step: str) -> None:
    log.exception("The worker could not finish %s; it tries again on its next pass", step)
    report.failed_steps.append(step)
