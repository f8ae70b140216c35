"""The public side: the start page and the application form's question pages, no sign-in needed.

The form is asked one topic a page (the UI schema's ``ui:pages``), then "Check your answers",
then sent. Answers are kept server-side in a draft (services/applications/drafts.py); the
session cookie holds only its random id.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from trigger_workflow import schema_forms
from trigger_workflow.errors import FormInvalid
from trigger_workflow.schema_forms.pages import Page, page_asked, page_of, page_schema, read_pages
from trigger_workflow.services.accounts import actors
from trigger_workflow.services.applications import documents, drafts
from trigger_workflow.services.casework import queries
from trigger_workflow.services.tasks import cases
from trigger_workflow.store.models import ApplicationDraft
from trigger_workflow.web import public_where, uploads
from trigger_workflow.web.database import get_session
from trigger_workflow.web.form_pages import FormState

bp = Blueprint("public", __name__)
DRAFT = "application_draft"  # the session holds the draft's random id, and nothing else
ONLINE = {"channel": "online"}  # R2: the channel of the public form is recorded, never chosen
# Officers only: the channel (set above) and consent given to an officer (its date and method).
OFFICER_ONLY_CHOICES = {("victim", "consent_how"): ["to_officer"]}


@dataclass(frozen=True)
class PublicForm:
    """The application form as the public sees it: schema, UI schema and question pages."""

    schema: dict[str, Any]
    ui_schema: dict[str, Any]
    pages: list[Page]

    def page(self, page_id: str) -> Page:
        """Return the page with this id, or answer 404."""
        found = next((p for p in self.pages if p.id == page_id), None)
        if found is None:
            abort(404)
        return found

    def asked(self, data: dict[str, Any]) -> list[Page]:
        """Return the pages asked, given the answers so far."""
        return [p for p in self.pages if page_asked(self.schema, p, data)]


@bp.get("/")
def home() -> str:
    """Show the start page."""
    return render_template("public/home.html")


@bp.get("/apply")
def apply() -> Response:
    """Start an application (or carry on with the one in progress) at its first question page."""
    draft = _draft()
    if draft is None or draft.reference:
        draft = drafts.start(get_session())
        session[DRAFT] = draft.id
    form = _public_form()
    first = url_for("public.page", page_id=form.asked(draft.data)[0].id)
    if public_where.needs_asking(draft):
        return redirect(url_for("public.where"))
    return redirect(first)


@bp.route("/apply/where", methods=["GET", "POST"])
def where() -> Any:
    """Ask which council's area the behaviour happens in (a county with several councils)."""
    draft = _draft()
    if draft is None:
        return redirect(url_for("public.apply"))
    if draft.reference:
        return redirect(url_for("public.done"))
    form = _public_form()
    after = url_for("public.check") if request.args.get("change") else None
    return public_where.answer(
        draft, after or url_for("public.page", page_id=form.asked(draft.data)[0].id)
    )


@bp.route("/apply/<page_id>", methods=["GET", "POST"])
def page(page_id: str) -> Any:
    """Show one question page, or keep its answers and go on to the next page."""
    form = _public_form()
    page = form.page(page_id)
    draft = _draft()
    if draft is None:
        return redirect(url_for("public.apply"))
    if draft.reference:
        return redirect(url_for("public.done"))
    state = FormState(page_schema(form.schema, page), form.ui_schema, data=draft.data)
    if request.method == "GET":
        state.errors, state.extra_rows = drafts.take_pending(get_session(), draft)
        return _render_page(form, page, state, draft)
    upload_errors = uploads.receive_files(state, actors.PUBLIC)
    posted = request.form.copy()
    for name, value in state.fixed.items():
        posted[name] = value  # an upload just kept
    answers = schema_forms.parse_submission(state.schema, posted)
    data = schema_forms.drop_inactive(form.schema, _merge(draft.data, page, answers.data))
    extra_rows = schema_forms.add_row_request(request.form)
    drafts.save(get_session(), draft, data, extra_rows)
    if extra_rows:  # "Add another": show the new row, focused (and scrolled to without JS)
        state.data, state.extra_rows = data, extra_rows
        return redirect(url_for("public.page", page_id=page.id) + "#" + _new_row(state, extra_rows))
    whole = schema_forms.validate(form.schema, data)
    state.data, state.raw = data, answers.raw
    state.errors = answers.errors + [e for e in whole if page.asks(e.path)] + upload_errors
    if state.errors:
        wait = uploads.retry_after()
        if wait is None:
            return _render_page(form, page, state, draft)
        # Refused by the upload limits: the answers are kept, the file is not.
        body, _ = _render_page(form, page, state, draft)
        return body, 429, {"Retry-After": str(int(wait.total_seconds()))}
    return redirect(_after(form, page, data))


@bp.route("/apply/check", methods=["GET", "POST"])
def check() -> Any:
    """Show every answer with a link to change it; send the application from here."""
    form = _public_form()
    draft = _draft()
    if draft is None:
        return redirect(url_for("public.apply"))
    if draft.reference:
        return redirect(url_for("public.done"))
    problems: list[Any] = []
    if public_where.needs_asking(draft):
        return redirect(url_for("public.where"))
    if request.method == "POST":
        data = {**draft.data, **ONLINE}
        command = cases.SubmitApplication(
            data, actors.PUBLIC, draft.submission_key, None, draft.authority_id
        )
        try:
            result = cases.submit_application(get_session(), command)
        except FormInvalid as error:
            get_session().rollback()
            target = page_of(form.pages, tuple(error.problems[0].path)) if error.problems else None
            if target is not None:
                drafts.refuse(get_session(), draft, list(error.problems))
                return redirect(url_for("public.page", page_id=target.id))
            problems = list(error.problems)
        else:
            drafts.sent(get_session(), draft, result.reference)
            session["submitted_reference"] = result.reference
            return redirect(url_for("public.done"))
    sections = [
        {
            "page": page,
            "rows": _with_change_links(
                schema_forms.read_only_summary(
                    page_schema(form.schema, page),
                    form.ui_schema,
                    _readable(form, page, draft.data),
                ),
                page,
            ),
        }
        for page in form.asked(draft.data)
    ]
    summary = [{"text": p.message, "href": "#send"} for p in problems]
    return render_template(
        "public/check.html",
        sections=sections,
        summary=summary,
        back=url_for("public.page", page_id=form.asked(draft.data)[-1].id),
        council=public_where.council_of(draft),
    ), (422 if problems else 200)


@bp.get("/apply/done")
def done() -> str | Response:
    """Show the reference of the application just sent."""
    reference = session.get("submitted_reference")
    if not reference:
        abort(404)
    return render_template("public/done.html", reference=reference)


def _public_form() -> PublicForm:
    """Return the application form of the newest process version, with officer-only parts hidden."""
    schema, ui_schema = queries.application_form(get_session())
    ui = copy.deepcopy(ui_schema or {})
    ui["channel"] = {"ui:widget": "hidden"}
    for path, hidden in OFFICER_ONLY_CHOICES.items():
        node = ui
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("ui:options", {})["hideChoices"] = hidden
    pages = read_pages(ui) or [Page("application", "Your application", ((),))]
    return PublicForm(schema, ui, pages)


def _draft() -> ApplicationDraft | None:
    """Return the draft this browser is filling in, if it has one that has not expired."""
    return drafts.find(get_session(), session.get(DRAFT))


def _merge(data: dict[str, Any], page: Page, answers: dict[str, Any]) -> dict[str, Any]:
    """Return the draft's answers with this page's questions answered afresh."""
    merged = copy.deepcopy(data) | ONLINE
    for path in page.paths:
        keys = [str(key) for key in path]
        parent: dict[str, Any] = merged
        source: Any = answers
        for key in keys[:-1]:
            if not isinstance(parent.get(key), dict):
                parent[key] = {}  # a page asks into this object: it exists, so it is checked
            parent = parent[key]
            source = source.get(key) if isinstance(source, dict) else None
        value = source.get(keys[-1]) if isinstance(source, dict) else None
        if value is None:
            parent.pop(keys[-1], None)
        else:
            parent[keys[-1]] = value
    return merged


def _after(form: PublicForm, page: Page, data: dict[str, Any]) -> str:
    """Return where to go after a page: back to the answers if changing one, else the next page."""
    asked = form.asked(data)
    later = [p for p in asked if form.pages.index(p) > form.pages.index(page)]
    if request.args.get("change") or not later:
        return url_for("public.check")
    return url_for("public.page", page_id=later[0].id)


def _new_row(state: FormState, extra_rows: dict[str, int]) -> str:
    """Return the id of the first input of the row just added (and mark it to be focused)."""
    fields = schema_forms.build_fields(
        state.schema, state.ui_schema, state.data, None, [], extra_rows
    )
    name = next(iter(extra_rows))
    group = next(f for f in schema_forms.walk(fields) if f.name == name and f.kind == "repeat")
    return group.children[-1].anchor


def _render_page(
    form: PublicForm, page: Page, state: FormState, draft: ApplicationDraft
) -> tuple[str, int]:
    asked = form.asked(draft.data)
    earlier = [p for p in asked if form.pages.index(p) < form.pages.index(page)]
    back = url_for("public.page", page_id=earlier[-1].id) if earlier else url_for("public.home")
    state.describe_file = _describe_file
    return state.render(
        "public/page.html",
        heading=page.title,
        page=page,
        step=(asked.index(page) + 1 if page in asked else None, len(asked)),
        back=back,
        submit_text="Continue",
        hidden={},
        action=url_for("public.page", page_id=page.id, change=request.args.get("change")),
    )


def _describe_file(token: str) -> str | None:
    """Return the name of an uploaded document, to show instead of its token."""
    return documents.describe(get_session(), token)


def _readable(form: PublicForm, page: Page, data: dict[str, Any]) -> dict[str, Any]:
    """Return the answers with each uploaded document's token replaced by its file's name."""
    shown = copy.deepcopy(data)
    fields = schema_forms.build_fields(
        page_schema(form.schema, page), form.ui_schema, data, None, []
    )
    for f in schema_forms.walk(fields):
        if f.kind == "file" and f.value:
            parent: Any = shown
            for key in f.path[:-1]:
                parent = parent[key]
            parent[f.path[-1]] = _describe_file(f.value) or "An uploaded file"
    return shown


def _with_change_links(rows: list[dict[str, Any]], page: Page) -> list[dict[str, Any]]:
    """Add a "Change" link to each answer, back to the page that asks it."""
    href = url_for("public.page", page_id=page.id, change="1")
    for row in rows:
        row["actions"] = {
            "items": [{"href": href, "text": "Change", "visuallyHiddenText": row["key"]["text"]}]
        }
    return rows
