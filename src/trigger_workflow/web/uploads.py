"""Take the files posted with a form: keep each as a document and put its token in the answers."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from trigger_workflow import schema_forms
from trigger_workflow.errors import FormInvalid
from trigger_workflow.services.accounts.actors import PUBLIC, Actor
from trigger_workflow.services.applications import documents
from trigger_workflow.settings import Settings
from trigger_workflow.web.database import get_session
from trigger_workflow.web.errors import respond
from trigger_workflow.web.form_pages import FormState

FORM_FIELDS_ALLOWANCE = 1024 * 1024  # room for the rest of the form beside the largest file


def init_app(app: Flask, settings: Settings) -> None:
    """Limit request size to one upload plus the form, and explain a refusal in plain words."""
    app.config["MAX_CONTENT_LENGTH"] = settings.upload_max_bytes + FORM_FIELDS_ALLOWANCE
    app.extensions["trigger_workflow.documents"] = documents.storage_from(settings)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[Any, int]:
        limit = settings.upload_max_bytes / (1024 * 1024)
        return respond(
            413,
            "The file is too large",
            f"Files must be smaller than {limit:g} MB. Nothing was saved: go back, choose a "
            "smaller file (or a photo of fewer pages), and send the form again.",
            [],
        )


def storage() -> documents.Storage:
    """Return where this app keeps uploaded documents."""
    found: documents.Storage = current_app.extensions["trigger_workflow.documents"]
    return found


def receive_files(form: FormState, actor: Actor) -> list[schema_forms.FieldError]:
    """Keep each file posted for one of the form's file fields; return what was refused, by field.

    A file chosen again for a field replaces the one the form held, which is deleted at once.
    When the public's upload limits refuse a file, ``retry_after()`` says for how long.
    """
    empty = schema_forms.build_fields(form.schema, form.ui_schema, {}, None, [])
    errors: list[schema_forms.FieldError] = []
    for f in schema_forms.walk(empty):
        upload = request.files.get(f.name + schema_forms.FILE_SUFFIX)
        if f.kind != "file" or upload is None or not upload.filename:
            continue
        content = upload.read(storage().max_bytes + 1)
        try:
            document = documents.receive(
                get_session(),
                storage(),
                documents.Upload(upload.filename, content),
                f.path,
                actor,
                client_address=(request.remote_addr or "unknown") if actor == PUBLIC else None,
            )
        except FormInvalid as error:
            errors += [schema_forms.FieldError(tuple(p.path), p.message) for p in error.problems]
        except documents.UploadLimitReached as refused:
            g.upload_retry_after = refused.retry_after
            errors.append(schema_forms.FieldError(f.path, _limit_message(refused)))
        else:
            replaced = request.form.get(f.name)
            if replaced and replaced != document.token:
                documents.forget_replaced(get_session(), storage(), replaced)
            form.fixed[f.name] = document.token
    form.describe_file = lambda token: documents.describe(get_session(), token)
    return errors


def retry_after() -> timedelta | None:
    """Return how long the person must wait if an upload limit refused a file, else None."""
    found: timedelta | None = g.get("upload_retry_after")
    return found


def _limit_message(refused: documents.UploadLimitReached) -> str:
    phone = current_app.extensions["trigger_workflow.settings"].council_phone
    wait = _wait(refused.retry_after)
    if refused.everyone:
        return (
            f"We cannot take files just now because we are receiving too many. Try again in "
            f"{wait}, or apply by phone on {phone}"
        )
    return (
        "You have sent as many files as we can keep for forms not yet sent. Try again in "
        f"{wait}, or apply by phone on {phone}"
    )


def _wait(delay: timedelta) -> str:
    minutes = math.ceil(delay.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"about {hours} hour{'s' if hours != 1 else ''}"
