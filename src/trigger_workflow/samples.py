"""Sample officers and answers for every task of the main path: the demo, the bench and the tests."""

from __future__ import annotations

from typing import Any

# username, name, role, agency
OFFICERS = [
    ("carol", "Carol Coordinator", "coordinator", "council"),
    ("pete", "Pete Police", "partner", "police"),
    ("hana", "Hana Housing", "partner", "housing"),
    ("heath", "Heath Health", "partner", "health"),
    ("ingrid", "Ingrid Independent", "chair", "independent"),
    ("olu", "Olu OPCC", "opcc", "opcc"),
    ("ada", "Ada Auditor", "auditor", None),
    ("owen", "Owen Owner", "process_owner", None),
    ("adam", "Adam Administrator", "administrator", None),
]
# Every test officer's password; CaseDriver.act_as signs in with it.
TEST_PASSWORD = "test-password-0123"
# Every demo officer's password, printed by `trigger-workflow demo`: for a local demo only.
DEMO_PASSWORD = "demo-password-2026"
AGENCY_OFFICER = {"police": "pete", "housing": "hana", "health": "heath"}

APPLICATION: dict[str, Any] = {
    "channel": "online",
    "basis": "victim",
    "applicant": {
        "name": "Alex Applicant",
        "address": "1 Example Street, Derby",
        "postcode": "DE1 1AA",
        "email": "alex@example.org",
        "preferred_contact": "email",
    },
    "asb_summary": "Loud music and shouting from the flat above most nights since March.",
    "incidents": [
        {
            "behaviour_date": "2026-09-01",
            "location": "Flat 2, Example Street",
            "what_happened": "Music until 3am",
            "reported_on": "2026-09-02",
            "reported_to": ["council"],
        },
        {
            "behaviour_date": "2026-09-20",
            "location": "Flat 2, Example Street",
            "what_happened": "Shouting and banging",
            "reported_on": "2026-09-21",
            "reported_to": ["police", "housing_provider"],
            "reference": "DP-1234",
        },
    ],
    "impact": "I cannot sleep and my children are frightened.",
    "desired_outcome": "For the noise to stop.",
    "consent_to_share": True,
    "declaration": True,
}

# The answers along the main path (threshold met, review, outcome, no appeal), by task id.
ANSWERS: dict[str, dict[str, Any]] = {
    "acknowledge_application": {
        "named_contact": "Carol Coordinator",
        "acknowledged_on": "2026-11-24",
        "acknowledgement_method": "email",
    },
    "record_complaints": {
        "agency_incidents": [
            {
                "behaviour_date": "2026-10-10",
                "location": "Flat 2, Example Street",
                "what_happened": "Music until 2am",
                "reported_on": "2026-10-11",
                "reported_to": "housing_provider",
            }
        ]
    },
    # Met on discretion (R9), so that the sample path does not depend on today's date: the
    # count rule's windows run from the day an application arrives.
    "decide_threshold": {
        "threshold_outcome": "met",
        "threshold_basis": "discretion",
        "discretion_factors": ["persistence", "harm"],
        "threshold_reasons": "Persistent noise at night, harming the family's health.",
    },
    "choose_agencies": {"agencies": ["police", "housing"]},
    "answer_information_request": {
        "information_response": {
            "known_issues": "Two reports logged.",
            "action_taken": "Warning letter.",
        }
    },
    "hold_review_meeting": {
        "chair_name": "Ingrid Independent",
        "chair_agency": "independent",
        "conflict_of_interest": True,
        "meeting_date": "2026-12-10",
        "victim_participation": "invited_attended",
        "issues_considered": "Noise nuisance; response so far.",
        "recommendations": [
            {"agency": "housing", "action": "Install noise monitoring", "target_date": "2027-01-15"}
        ],
    },
    "send_outcome_notice": {
        "outcome_summary": "The review recommends noise monitoring.",
        "outcome_sent_on": "2026-12-14",
        "outcome_method": "email",
    },
    "record_appeal": {"appeal_received": False},
}
THRESHOLD_NOT_MET = {"threshold_outcome": "not_met", "threshold_reasons": "Only one complaint."}
REJECTED = {
    "threshold_outcome": "rejected",
    "threshold_reasons": "The application was made for a neighbour without their consent.",
    "rejection_ground": "no_consent",
}
APPEAL_CONFIRMED = {
    "appeal_decision": "confirmed",
    "appeal_findings": "The review was thorough and its actions are in hand.",
    "enforcement_tool_only": False,
}
APPEAL = {
    "appeal_received": True,
    "appeal_received_on": "2026-12-20",
    "appeal_grounds": "Nothing changed.",
}
