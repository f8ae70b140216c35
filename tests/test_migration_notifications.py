"""Migration 0014 (issue 14) upgrades a database holding letters, their outbox rows and officers."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from trigger_workflow.store import db

ROWS = [
    "INSERT INTO process_version (id, process_id, number, content_hash, files, spec,"
    " serializer_version, deployed_by, deployed_at) VALUES (1, 'p', 1, 'h', '{}', '{}', '1', 'x',"
    " '2026-01-01 00:00:00')",
    'INSERT INTO "case" (id, reference, process_version_id, status, stage, received_on,'
    " created_at, updated_at, workflow_state, serializer_version, lock_version, events_recorded,"
    " last_event_hash) VALUES (1, 'CT-2026-0001', 1, 'open', 's', '2026-01-01',"
    " '2026-01-01 00:00:00', '2026-01-01 00:00:00', '{}', '1', 1, 0, '')",
    "INSERT INTO letter (id, case_id, kind, task_id, subject, recipient_name, html, html_sha256,"
    " created_at, created_by) VALUES (1, 1, 'acknowledgement', 't1', 'S', 'Alex', '<p>x</p>', 'h',"
    " '2026-01-01 00:00:00', 'carol')",
    "INSERT INTO outbox_message (id, letter_id, channel, recipient_email, status, attempts)"
    " VALUES (1, 1, 'email', 'alex@example.org', 'sent', 1)",
    "INSERT INTO officer (id, username, display_name, role, disabled)"
    " VALUES (1, 'carol', 'Carol', 'coordinator', false)",
]


def test_0014_keeps_letters_outbox_rows_and_officers_and_allows_notifications(
    tmp_path: Path,
) -> None:
    """From 0012 with data: the letter's outbox row is kept as it was, officers get task emails
    on with no address, and an outbox row without a letter (a notification) can be written;
    downgrading removes the notifications and keeps the letters."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(db.alembic_config(url), "0012")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        for row in ROWS:
            connection.execute(text(row))
    engine.dispose()

    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as connection:
        kept = connection.execute(
            text("SELECT letter_id, channel, status, delivery_status, purpose FROM outbox_message")
        ).one()
        assert tuple(kept) == (1, "email", "sent", None, None)
        officer = connection.execute(text("SELECT email, task_emails FROM officer")).one()
        assert (officer.email, bool(officer.task_emails)) == (None, True)
        connection.execute(
            text(
                "INSERT INTO outbox_message (letter_id, case_id, channel, recipient_phone, status,"
                " attempts, purpose, body) VALUES (NULL, 1, 'sms', '07700900123', 'queued', 0,"
                " 'stage', 'Received')"
            )
        )
    engine.dispose()

    command.downgrade(db.alembic_config(url), "0012")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT letter_id FROM outbox_message")).all() == [(1,)]
    engine.dispose()
