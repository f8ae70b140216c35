"""The security log's page: sign-ins and administrators' changes, for auditors and administrators."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from trigger_workflow.services.accounts import security_log
from trigger_workflow.web.acting import role_required
from trigger_workflow.web.database import get_session

bp = Blueprint("security_log", __name__, url_prefix="/audit/security-log")


@bp.get("")
@role_required("auditor", "administrator")
def index() -> str:
    """List the newest security events, for one account or all, a hundred at a time."""
    account = request.args.get("account", "").strip()[:100] or None
    before = request.args.get("before", type=int)
    events = security_log.recent(get_session(), account, before)
    older = events[-1].id if len(events) == security_log.PAGE_SIZE else None
    return render_template(
        "audit/security_log.html",
        events=events,
        account=account,
        older=older,
        kinds=security_log.KINDS,
    )
