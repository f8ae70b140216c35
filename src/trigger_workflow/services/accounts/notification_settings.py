"""An officer's own notification settings: where task emails go, and whether they want them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trigger_workflow.errors import FieldProblem, FormInvalid, NotFound
from trigger_workflow.schema_forms.formats import email_problem
from trigger_workflow.services.accounts.actors import Actor
from trigger_workflow.store.models import Officer


@dataclass(frozen=True)
class NotificationSettings:
    """What the settings page shows and changes."""

    email: str
    task_emails: bool


def settings_of(session: Session, actor: Actor) -> NotificationSettings:
    """Return the acting officer's notification settings."""
    officer = _officer(session, actor)
    return NotificationSettings(officer.email or "", officer.task_emails)


def change(session: Session, actor: Actor, email: str, task_emails: bool) -> NotificationSettings:
    """Change the acting officer's own settings (nobody else's); commit."""
    email = email.strip()
    if email and (problem := email_problem(email)) is not None:
        raise FormInvalid(
            [FieldProblem(("email",), f"Enter an email address that works: {problem}")]
        )
    if task_emails and not email:
        raise FormInvalid(
            [FieldProblem(("email",), "Enter your email address, or switch the emails off")]
        )
    officer = _officer(session, actor)
    officer.email, officer.task_emails = email or None, task_emails
    session.commit()
    return NotificationSettings(email, task_emails)


def _officer(session: Session, actor: Actor) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.username == actor.username))
    if officer is None:
        raise NotFound("Your officer account was not found.")
    return officer
