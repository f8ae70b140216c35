"""Template filters and globals for what people read: GOV.UK dates, agencies' names, due dates."""

from __future__ import annotations

from datetime import date

from flask.blueprints import BlueprintSetupState

from trigger_workflow.services.accounts.actors import AGENCIES, ROLES
from trigger_workflow.services.casework import labels
from trigger_workflow.services.tasks import inbox


def agency_name(agency: str | None) -> str:
    """Return an agency's name ('Police', 'Housing provider') for its id."""
    return AGENCIES.get(agency or "", agency or "")


def role_name(role: str | None) -> str:
    """Return a role's name ('Case review coordinator') for its id."""
    return ROLES.get(role or "", (role or "").replace("_", " ").capitalize())


def due_status(due_on: date | None) -> inbox.DueStatus | None:
    """Return how a due date stands today."""
    return inbox.due_status(due_on)


def register(state: BlueprintSetupState) -> None:
    """Give every template the filters and globals (called once, when the app is built)."""
    env = state.app.jinja_env
    env.filters.update(
        long_date=labels.long_date,
        agency_name=agency_name,
        role_name=role_name,
        without_rule_codes=labels.without_rule_codes,
    )
    env.globals.update(due_status=due_status)
