"""The worker's letters (issue 11): memory stays flat per PDF, and a backlog is drained, not capped."""

from __future__ import annotations

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import CaseDriver
from trigger_workflow import pdf
from trigger_workflow.cli import main
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case, Letter

LETTER = (
    "<!DOCTYPE html><html><head><style>body {{ font-family: sans-serif; }} "
    "h1 {{ font-size: 18pt; }}</style></head><body><h1>Letter {n}</h1>"
    "<p>Dear Alex, we have received your application.</p></body></html>"
)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_making_pdfs_does_not_grow_memory_letter_by_letter() -> None:
    """60 PDFs after a warm-up add under 6 MB (a font configuration per PDF added ~17 MB)."""
    for n in range(10):
        pdf.html_to_pdf(LETTER.format(n=n))
    before = _rss_mb()
    for n in range(60):
        assert pdf.html_to_pdf(LETTER.format(n=n)).startswith(b"%PDF-")
    assert _rss_mb() - before < 6


def test_worker_once_makes_every_waiting_pdf_not_only_the_first_hundred(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    database_url: str,
    settings: Settings,
) -> None:
    """A backlog of 130 letters is drained in batches by one `worker --once`, not 100 a pass."""
    CaseDriver(client, sessions).apply()
    with sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
        rows = [
            {
                "case_id": case_id,
                "kind": "acknowledgement",
                "task_id": f"backlog-{n}",
                "subject": f"Letter {n}",
                "recipient_name": "Alex Applicant",
                "html": LETTER.format(n=n),
                "html_sha256": f"{n:064d}",
                "created_by": "test",
            }
            for n in range(130)
        ]
        session.execute(insert(Letter), rows)
        session.commit()
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(settings.instance_path),
    }
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "Letters' PDFs made: 100." in result.output
    assert "Letters' PDFs made: 30." in result.output
    with sessions() as session:
        waiting = select(func.count()).select_from(Letter).where(Letter.pdf_sha256.is_(None))
        assert session.scalar(waiting) == 0
