"""Uploaded documents: limits, safe storage, and safe serving only to those allowed (R1, R22)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.scenario import ANSWERS, CaseDriver
from tests.uploads import (
    CONSENT_FIELD,
    PDF,
    PNG,
    field_error,
    on_behalf,
    post_form,
    received_on,
)
from trigger_workflow.app import create_app
from trigger_workflow.cli import main
from trigger_workflow.errors import FormInvalid
from trigger_workflow.services.accounts.actors import PUBLIC
from trigger_workflow.services.applications import documents
from trigger_workflow.settings import Settings
from trigger_workflow.store.models import Case, CaseView, Document


def _apply_with(client: FlaskClient, content: bytes, name: str) -> str:
    response = post_form(
        client,
        "/apply",
        on_behalf(consent_how="signed_form"),
        files={CONSENT_FIELD: (content, name)},
    )
    assert response.status_code == 302, field_error(response.text, "victim-consent_document")
    return str(client.get("/apply/done").text.split('id="case-reference">')[1].split("<")[0])


def test_document_is_stored_outside_the_web_root_under_a_generated_name(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Uploads: bytes go to the instance folder under a random name, with their SHA-256 kept."""
    _apply_with(client, PNG, "photo.png")
    with sessions() as session:
        document = session.scalars(select(Document)).one()
    stored = settings.instance_path / "documents" / document.stored_name
    assert stored.read_bytes() == PNG
    assert document.stored_name.endswith(".png") and "photo" not in document.stored_name
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert client.get(f"/documents/{document.stored_name}").status_code == 404


def test_document_is_listed_on_the_case_page_and_downloaded_as_an_attachment(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A case's document is listed on its page and served as an attachment, never inline."""
    reference = _apply_with(client, PDF, "consent.pdf")
    CaseDriver(client, sessions).act_as("carol")
    page = client.get(f"/cases/{reference}")
    assert "consent.pdf" in page.text
    with sessions() as session:
        document_id = session.scalars(select(Document.id)).one()
    response = client.get(f"/cases/{reference}/documents/{document_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=consent.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_partner_sees_a_document_only_when_their_agency_takes_part(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R22: police see the consent form once chosen for the review, and the view is logged; before
    that, and for health throughout, the case is not there (404)."""
    reference = _apply_with(client, PDF, "consent.pdf")
    case = CaseDriver(client, sessions)
    case.reference = reference
    with sessions() as session:
        document_id = session.scalars(select(Document.id)).one()
    url = f"/cases/{reference}/documents/{document_id}"
    case.act_as("pete")
    assert client.get(url).status_code == 404
    case.advance_to("Choose agencies")
    case.complete("Choose agencies", ANSWERS["Choose agencies"])  # police and housing
    case.act_as("pete")
    assert client.get(url).status_code == 200
    case.act_as("heath")
    assert client.get(url).status_code == 404
    with sessions() as session:
        views = session.scalars(select(CaseView)).all()
        assert [(v.username, v.what) for v in views] == [("pete", "document consent.pdf")]


def test_document_of_another_case_is_not_found(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """A document is only reachable through its own case's address."""
    first = _apply_with(client, PDF, "one.pdf")
    _apply_with(client, PDF, "two.pdf")
    CaseDriver(client, sessions).act_as("carol")
    with sessions() as session:
        second_id = session.scalars(select(Document.id).order_by(Document.id.desc())).first()
    assert client.get(f"/cases/{first}/documents/{second_id}").status_code == 404


def test_oversize_upload_gets_a_clear_413_page_and_saves_nothing(
    settings: Settings, deployed: object, sessions: sessionmaker[Session]
) -> None:
    """Uploads: a request over the configured limit is answered 413 with the limit in words."""
    small = Settings(**{**settings.__dict__, "upload_max_bytes": 1024 * 1024})
    app = create_app(small)
    try:
        client = app.test_client()
        big = PDF + b"0" * (3 * 1024 * 1024)
        response = post_form(
            client,
            "/apply",
            on_behalf(consent_how="signed_form"),
            files={CONSENT_FIELD: (big, "big.pdf")},
        )
        assert response.status_code == 413
        assert "Files must be smaller than 1 MB" in response.text
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Case)) == 0
            assert session.scalar(select(func.count()).select_from(Document)) == 0
    finally:
        app.extensions["trigger_workflow.engine"].dispose()


def test_file_over_the_limit_but_inside_the_request_is_refused_beside_the_field(
    session: Session, tmp_path: Path
) -> None:
    """Uploads: the service refuses a file over its size limit with a message on the field."""
    storage = documents.Storage(tmp_path / "documents", max_bytes=2048)
    upload = documents.Upload("a.pdf", PDF + b"0" * 2048)
    with pytest.raises(FormInvalid) as refused:
        documents.receive(session, storage, upload, ("victim", "consent_document"), PUBLIC)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        (("victim", "consent_document"), "The selected file must be smaller than 2 KB")
    ]
    assert not storage.folder.exists()
    assert session.scalar(select(func.count()).select_from(Document)) == 0


def test_content_is_sniffed_not_named() -> None:
    """Uploads: PDF, PNG and JPEG are known by their first bytes; anything else is refused."""
    assert documents.sniff(PDF) == ("application/pdf", ".pdf")
    assert documents.sniff(PNG) == ("image/png", ".png")
    assert documents.sniff(b"\xff\xd8\xff\xe0JFIF") == ("image/jpeg", ".jpg")
    assert documents.sniff(b"<html>%PDF-") is None
    assert documents.sniff(b"MZ\x90\x00") is None


def test_uploads_of_forms_never_sent_are_deleted_after_a_day(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings, database_url: str
) -> None:
    """An upload whose form was never accepted is deleted, row and file; a claimed one stays."""
    _apply_with(client, PDF, "kept.pdf")
    refused = on_behalf(consent_how="signed_form")
    refused["impact"] = ""
    post_form(client, "/apply", refused, files={CONSENT_FIELD: (PNG, "abandoned.png")})
    with sessions() as session:
        abandoned = session.scalars(select(Document).where(Document.case_id.is_(None))).one()
    folder = settings.instance_path / "documents"
    assert (folder / abandoned.stored_name).exists()
    env = {
        "TRIGGER_WORKFLOW_DATABASE_URL": database_url,
        "TRIGGER_WORKFLOW_INSTANCE_PATH": str(settings.instance_path),
    }
    runner = CliRunner()
    kept = runner.invoke(main, ["outbox", "forget-unclaimed-uploads"], env=env)
    assert "Deleted 0 unclaimed upload(s)." in kept.output  # younger than a day
    gone = runner.invoke(main, ["outbox", "forget-unclaimed-uploads", "--hours", "0"], env=env)
    assert "Deleted 1 unclaimed upload(s)." in gone.output, gone.output
    assert not (folder / abandoned.stored_name).exists()
    with sessions() as session:
        [document] = session.scalars(select(Document)).all()
        assert document.original_name == "kept.pdf"
        assert (folder / document.stored_name).exists()


def test_officer_uploads_a_consent_form_with_an_application_taken_by_letter(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """R1, R2: the coordinator's form takes the victim's signed consent form as an upload too."""
    CaseDriver(client, sessions).act_as("carol")
    data = dict(on_behalf(consent_how="signed_form"), channel="letter")
    response = post_form(
        client,
        "/cases/new",
        data,
        files={CONSENT_FIELD: (PDF, "signed.pdf")},
        extra=received_on(),
    )
    assert response.status_code == 302, field_error(response.text, "victim-consent_document")
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    assert "signed.pdf" in client.get(f"/cases/{reference}").text
    with sessions() as session:
        assert session.scalars(select(Document.uploaded_by)).one() == "carol"
