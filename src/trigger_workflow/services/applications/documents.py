"""Take uploaded documents safely: size and type limits, generated names, hashes, and who may read them."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trigger_workflow.errors import FieldProblem, FormInvalid, NotFound, TriggerWorkflowError
from trigger_workflow.services.accounts import access
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.services.audit import access_log
from trigger_workflow.store.models import Document, utcnow

# The types we accept, recognised by their first bytes (never by the file's name): the name a
# browser sends, and the type it claims, are whatever the sender wants them to be.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
ACCEPTED = "PDF, JPEG or PNG"


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the sender gave it and its bytes."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class UploadLimits:
    """How much the public may upload with forms not (yet) sent: per client address and in all.

    An upload counts until an application claims it, or until it is forgotten after
    ``keep_unclaimed``; officers' uploads count towards the total but are never refused by it.
    """

    client_max_files: int = 10
    client_max_bytes: int = 30 * 1024 * 1024
    unclaimed_max_bytes: int = 500 * 1024 * 1024
    keep_unclaimed: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class Storage:
    """Where document bytes are kept (a folder no web server serves) and how big they may be."""

    folder: Path
    max_bytes: int
    limits: UploadLimits = field(default_factory=UploadLimits)


def storage_from(settings: Any) -> Storage:
    """Return where the settings keep uploads, how big they may be and how much the public may send."""
    limits = UploadLimits(
        client_max_files=settings.upload_client_max_files,
        client_max_bytes=settings.upload_client_max_bytes,
        unclaimed_max_bytes=settings.upload_unclaimed_max_bytes,
        keep_unclaimed=timedelta(minutes=settings.upload_keep_unclaimed_minutes),
    )
    return Storage(Path(settings.instance_path) / "documents", settings.upload_max_bytes, limits)


class UploadLimitReached(TriggerWorkflowError):
    """An anonymous upload refused because this client, or everyone, has sent enough for now."""

    status = 429
    title = "Too many files sent"

    def __init__(self, everyone: bool, retry_after: timedelta) -> None:
        self.everyone = everyone
        self.retry_after = max(retry_after, timedelta(minutes=1))
        who = "All clients have" if everyone else "This client has"
        super().__init__(f"{who} uploaded as much as is kept for forms not yet sent.")


def sniff(content: bytes) -> tuple[str, str] | None:
    """Return the content type and extension the bytes really have, or None if not accepted."""
    for signature, content_type, extension in SIGNATURES:
        if content.startswith(signature):
            return content_type, extension
    return None


def receive(
    session: Session,
    storage: Storage,
    upload: Upload,
    field: tuple[str | int, ...],
    actor: Actor,
    client_address: str | None = None,
) -> Document:
    """Check and keep an uploaded file, not yet linked to a case; refuse it beside its field.

    An upload from the public (``client_address`` given) is refused with ``UploadLimitReached``
    once its client, or everyone together, has as much kept for unsent forms as the limits allow.
    """
    if not upload.content:
        raise FormInvalid([FieldProblem(field, "The selected file is empty")])
    if len(upload.content) > storage.max_bytes:
        limit = _megabytes(storage.max_bytes)
        raise FormInvalid([FieldProblem(field, f"The selected file must be smaller than {limit}")])
    found = sniff(upload.content)
    if found is None:
        raise FormInvalid([FieldProblem(field, f"The selected file must be a {ACCEPTED}")])
    content_type, extension = found
    if client_address is not None:
        _check_limits(session, storage.limits, client_address[:64], len(upload.content))
    stored_name = secrets.token_hex(16) + extension
    _write_private(storage.folder, stored_name, upload.content)
    document = Document(
        token=secrets.token_urlsafe(24),
        purpose=str(field[-1]),
        original_name=_safe_name(upload.filename, extension),
        content_type=content_type,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        stored_name=stored_name,
        uploaded_by=actor.username,
        client_address=None if client_address is None else client_address[:64],
    )
    session.add(document)
    session.commit()
    return document


def describe(session: Session, token: str) -> str | None:
    """Return the name of the file a form's token stands for, to show beside the field."""
    document = session.scalar(select(Document).where(Document.token == token))
    return None if document is None else document.original_name


def for_case(session: Session, case_id: int) -> list[Document]:
    """Return the documents kept with a case, oldest first."""
    query = select(Document).where(Document.case_id == case_id).order_by(Document.id)
    return list(session.scalars(query))


def open_for(
    session: Session, storage: Storage, reference: str, document_id: int, actor: Actor
) -> tuple[Document, bytes]:
    """Return a case's document and its bytes for an officer allowed to see the case (R22)."""
    case = access.case_for(session, actor, reference)
    document = session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise NotFound(f"Case {reference} has no document {document_id}.")
    content = (storage.folder / document.stored_name).read_bytes()
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise NotFound(f"Document {document_id} of case {reference} does not match its hash.")
    access_log.record_view(session, case.id, actor, f"document {document.original_name}")
    session.commit()
    return document, content


def forget_unclaimed(session: Session, storage: Storage, older_than: datetime) -> int:
    """Delete uploads no application claimed before `older_than` (forms never sent); return how many."""
    stale = list(
        session.scalars(
            select(Document)
            .where(Document.case_id.is_(None), Document.uploaded_at < older_than)
            .with_for_update(skip_locked=True)
        )
    )
    for document in stale:
        session.delete(document)
    session.commit()
    for document in stale:  # after the commit: a failed commit leaves rows and files together
        (storage.folder / document.stored_name).unlink(missing_ok=True)
    return len(stale)


def forget_replaced(session: Session, storage: Storage, token: str) -> bool:
    """Delete an unclaimed upload whose form was sent again with another file; return if one was."""
    document = session.scalar(
        select(Document).where(Document.token == token, Document.case_id.is_(None))
    )
    if document is None:
        return False
    session.delete(document)
    session.commit()
    (storage.folder / document.stored_name).unlink(missing_ok=True)
    return True


def _check_limits(session: Session, limits: UploadLimits, client: str, size: int) -> None:
    """Refuse an anonymous upload past this client's share or the total kept for unsent forms."""
    now = utcnow()
    since = now - limits.keep_unclaimed
    unclaimed = Document.case_id.is_(None)
    files, kept, oldest = session.execute(
        select(
            func.count(), func.coalesce(func.sum(Document.size), 0), func.min(Document.uploaded_at)
        ).where(unclaimed, Document.client_address == client, Document.uploaded_at >= since)
    ).one()
    if files + 1 > limits.client_max_files or kept + size > limits.client_max_bytes:
        raise UploadLimitReached(False, _aware(oldest) + limits.keep_unclaimed - now)
    total, oldest = session.execute(
        select(func.coalesce(func.sum(Document.size), 0), func.min(Document.uploaded_at)).where(
            unclaimed
        )
    ).one()
    if total + size > limits.unclaimed_max_bytes:
        raise UploadLimitReached(True, _aware(oldest or now) + limits.keep_unclaimed - now)


def _aware(moment: datetime) -> datetime:
    """Return a stored moment as UTC-aware (SQLite gives naive datetimes back)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _write_private(folder: Path, name: str, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def _safe_name(filename: str, extension: str) -> str:
    """Keep the sender's name for people to recognise, without paths or odd characters."""
    base = Path(filename.replace("\\", "/")).name
    cleaned = "".join(c for c in base if c.isalnum() or c in " ._-()").strip(" .") or "document"
    stem = cleaned.rsplit(".", 1)[0][:200] or "document"
    return stem + extension


def _megabytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB"
