"""Anonymous uploads cannot fill the disk (issue 11): limits per client and in all, kept briefly."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.public_form import post_page
from tests.scenario import encode, form_schema
from tests.uploads import CONSENT_FIELD, PDF, field_error, on_behalf
from trigger_workflow.cli import main
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Document, utcnow
from trigger_workflow.web.public import DRAFT

PHONE = "01332 000000"  # the council's phone number in the default settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, behind one trusted proxy that names the client in X-Forwarded-For."""
    return replace(
        settings,
        trusted_proxies=1,
        upload_client_max_files=3,
        upload_unclaimed_max_bytes=5 * len(PDF),
    )


def _refused_application() -> dict[str, Any]:
    """An application for a neighbour, with a signed form, refused on the victim's page."""
    return on_behalf(consent_how="signed_form", email="not an address")


def _post(client: FlaskClient, client_address: str, data: dict[str, Any], token: str = "") -> Any:
    """Start a new public form, answer it up to the victim's page and send that page with a
    consent form attached, from `client_address` via the proxy."""
    with client.session_transaction() as session:
        session.pop(DRAFT, None)  # a new form each time, as an attacker would start
    fields = encode(form_schema("submit_application.json"), data)
    url = urlsplit(client.get("/apply").location).path
    while url != "/apply/victim":
        response = post_page(client, url, fields)
        assert response.status_code == 302, response.text
        url = urlsplit(response.location).path
    form: list[tuple[str, Any]] = [
        *fields,
        (CONSENT_FIELD, FileStorage(io.BytesIO(PDF), "consent.pdf")),
    ]
    if token:
        form.append(("victim.consent_document", token))
    boundary, body = encode_multipart(MultiDict(form))
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-Forwarded-For": client_address},
    )


def _kept(sessions: sessionmaker[Session], settings: Settings) -> tuple[int, int]:
    """Return how many upload rows and how many stored files there are."""
    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(Document)) or 0
    folder = settings.instance_path / "documents"
    return rows, len(list(folder.iterdir())) if folder.exists() else 0


def test_r2_one_client_cannot_keep_sending_files_with_forms_it_never_sends(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R2: past 3 unsent uploads one address is refused (429, what to do); others still upload."""
    for _ in range(3):
        assert _post(client, "203.0.113.7", _refused_application()).status_code == 422
    refused = _post(client, "203.0.113.7", _refused_application())
    assert refused.status_code == 429
    assert 100 < int(refused.headers["Retry-After"]) <= 2 * 3600
    message = field_error(refused.text, "victim-consent_document")
    assert message.startswith("You have sent as many files as we can keep")
    assert "Try again in" in message and f"apply by phone on {PHONE}" in message
    assert 'href="#victim-consent_document"' in refused.text  # in the error summary too
    assert 'value="Vera Victim"' in refused.text  # the answers are kept
    assert _kept(sessions, settings) == (3, 3)
    # The proxy's own address is the same for everyone: the limit follows X-Forwarded-For.
    assert _post(client, "198.51.100.9", _refused_application()).status_code == 422
    assert _kept(sessions, settings) == (4, 4)


def test_r2_uploads_stop_for_everyone_when_the_total_kept_is_reached(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R2: when unsent uploads reach the total allowed, the next one is refused with a way out."""
    for n in range(5):
        assert _post(client, f"203.0.113.{n + 1}", _refused_application()).status_code == 422
    refused = _post(client, "203.0.113.99", _refused_application())
    assert refused.status_code == 429
    message = field_error(refused.text, "victim-consent_document")
    assert message.startswith("We cannot take files just now")
    assert f"apply by phone on {PHONE}" in message
    assert _kept(sessions, settings) == (5, 5)


def test_r1_a_file_chosen_again_replaces_the_one_the_form_held(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """R1: sending the form again with another file deletes the first one at once."""
    first = _post(client, "203.0.113.7", _refused_application())
    token = first.text.split(
        'id="victim-consent_document-token" name="victim.consent_document" value="'
    )[1].split('"')[0]
    again = _post(client, "203.0.113.7", _refused_application(), token=token)
    assert again.status_code == 422
    assert token not in again.text
    with sessions() as session:
        [document] = session.scalars(select(Document))
        assert document.token != token
    assert _kept(sessions, settings) == (1, 1)


def test_uploads_of_forms_never_sent_are_deleted_after_two_hours_not_a_day(
    sessions: sessionmaker[Session], settings: Settings, database_url: str
) -> None:
    """Unsent uploads are kept UPLOAD_KEEP_UNCLAIMED_MINUTES (120) by default, then deleted."""
    folder = settings.instance_path / "documents"
    folder.mkdir(parents=True)
    with sessions() as session:
        for name, age in (("old.pdf", timedelta(hours=3)), ("new.pdf", timedelta(minutes=30))):
            (folder / name).write_bytes(PDF)
            session.add(
                Document(
                    token=name,
                    purpose="consent_document",
                    original_name=name,
                    content_type="application/pdf",
                    size=len(PDF),
                    sha256="0" * 64,
                    stored_name=name,
                    uploaded_by="public",
                    uploaded_at=utcnow() - age,
                )
            )
        session.commit()
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(settings.instance_path),
    }
    result = CliRunner().invoke(main, ["outbox", "forget-unclaimed-uploads"], env=env)
    assert result.exit_code == 0, result.output
    assert "Deleted 1 unclaimed upload(s)." in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["new.pdf"]


def test_upload_limits_are_settings_that_must_be_positive() -> None:
    """Each limit is read from its environment variable; zero or less is refused at start."""
    read = Settings.from_env(
        {
            "TRIGGER_WORKFLOW_UPLOAD_CLIENT_MAX_FILES": "4",
            "TRIGGER_WORKFLOW_UPLOAD_CLIENT_MAX_BYTES": "1000",
            "TRIGGER_WORKFLOW_UPLOAD_UNCLAIMED_MAX_BYTES": "5000",
            "TRIGGER_WORKFLOW_UPLOAD_KEEP_UNCLAIMED_MINUTES": "30",
        }
    )
    assert (read.upload_client_max_files, read.upload_client_max_bytes) == (4, 1000)
    assert (read.upload_unclaimed_max_bytes, read.upload_keep_unclaimed_minutes) == (5000, 30)
    with pytest.raises(ValueError, match="UPLOAD_KEEP_UNCLAIMED_MINUTES must be positive"):
        Settings.from_env({"TRIGGER_WORKFLOW_UPLOAD_KEEP_UNCLAIMED_MINUTES": "0"})
