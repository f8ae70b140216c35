"""Which tasks and answers of the diagrams make each statutory figure (R20): the one place to adjust.

A figure is read from what each case went through — its recorded task completions — never from a
counter kept beside them. When the diagrams change a task id or a data name, change it here; the
names below are those of `processes/README.md` ("The decisions letters are written from" and
"End events"). No figure reads an end event: an escalation's end (`end_escalation_handled`,
`end_<task>_escalated`) is never a case's outcome, and an escalated step counts as it completes.
"""

from __future__ import annotations

# The application: a case started from it counts as an application received (on `received_on`).
APPLICATION_TASK = "submit_application"
# The threshold decision: the last completion of this task decides; the field holds the outcome.
THRESHOLD_TASK = "decide_threshold"
THRESHOLD_FIELD = "threshold_outcome"
THRESHOLD_MET = "met"  # whatever the basis: count, discretion (R9) or override
THRESHOLD_NOT_MET = "not_met"
THRESHOLD_REJECTED = "rejected"
# A case review was carried out once its meeting was recorded (a review held although the count
# was not met, R9 — `threshold_basis` `discretion` or `vulnerable_victim_override` — counts too:
# the figure looks at the meeting, not at the count). An upheld appeal's fresh review is another
# meeting of the same case.
REVIEW_TASK = "hold_review_meeting"
# A review resulted in recommendations when the meeting recorded at least one.
RECOMMENDATIONS_FIELD = "recommendations"

FIGURES = {
    "applications": "Applications received",
    "threshold_decided": "Threshold decided",
    "threshold_not_met": "Threshold not met",
    "rejected": "Applications rejected",
    "reviews": "Case reviews carried out",
    "with_recommendations": "Case reviews that resulted in recommendations",
}
# The four figures s.104(9) requires to be published; the others show how they add up.
STATUTORY = ("applications", "threshold_not_met", "reviews", "with_recommendations")
