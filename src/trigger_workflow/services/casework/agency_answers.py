"""The partner agencies' answers to their information requests, as the review meeting reads them.

The chair sees every agency's answer (R14, R15): the meeting considers what each agency knows and
has already done. Which other officers may read which agency's answer is the case-access rule's
business (R22); this module only gathers the answers for the meeting task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trigger_workflow.services.accounts.actors import AGENCIES

MEETING_TASK = "hold_review_meeting"
CHAIR = "chair"


@dataclass(frozen=True)
class AgencyAnswer:
    """One agency's answer to its information request."""

    agency: str
    known_issues: str
    action_taken: str


def for_task(task_spec: str, role: str, data: dict[str, Any]) -> list[AgencyAnswer]:
    """Return the agencies' answers when the task is the chair's review meeting, else none."""
    if task_spec != MEETING_TASK or role != CHAIR:
        return []
    answers = []
    for response in data.get("information_responses") or []:
        if not isinstance(response, dict):
            continue
        agency = str(response.get("agency") or "")
        answers.append(
            AgencyAnswer(
                AGENCIES.get(agency, agency or "An agency"),
                _text(response.get("known_issues")),
                _text(response.get("action_taken")),
            )
        )
    return answers


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
