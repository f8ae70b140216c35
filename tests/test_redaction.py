"""Finding erased values in text and JSON (issue 13): whole values, inside text as HTML writes
them, an address line by line, never a closed choice or a part of another word."""

from __future__ import annotations

from trigger_workflow.services.privacy.redaction import ERASED, redactor, scrub_json


def test_values_are_found_inside_text_as_html_writes_them_and_line_by_line() -> None:
    """A name with an apostrophe is found HTML-escaped; each line of an address on its own;
    case and line breaks do not hide a value."""
    redact = redactor(["Siobhan O'Brien", "3 Mill Lane\nDuffield", "DE56 4AA"])
    html = "<p>Dear Siobhan O&#39;Brien,</p><p>3 Mill Lane<br>DUFFIELD<br>DE56\n4AA</p>"
    assert redact.text(html) == f"<p>Dear {ERASED},</p><p>{ERASED}<br>{ERASED}<br>{ERASED}</p>"


def test_closed_choices_dates_and_parts_of_words_are_left() -> None:
    """ "email" (a closed choice) and a date are not searched for in text; "Ann" is not taken
    out of "Annual"; a short value is erased only where it is the whole value."""
    redact = redactor(["email", "1961-07-23", "Ann", "Jo"], closed=["email"])
    assert redact.text("Annual review, sent by email on 1961-07-23 to Ann.") == (
        f"Annual review, sent by email on 1961-07-23 to {ERASED}."
    )
    assert redact.text("Jo") == ERASED and redact.text("Jo Bloggs") == "Jo Bloggs"


def test_json_keeps_its_shape_and_the_persons_group_goes_whole() -> None:
    """Under an erased person's group every string goes (closed choices too); elsewhere only
    strings holding a value; numbers, booleans and structure stay."""
    state = {
        "data": {
            "applicant": {"name": "Ann Other", "preferred_contact": "email", "under_18": False},
            "notes": ["Spoke to Ann Other", "No answer"],
            "count": 3,
        },
        "typename": "Task",
    }
    scrubbed, changed = scrub_json(state, redactor(["Ann Other"]), ["applicant"])
    assert scrubbed == {
        "data": {
            "applicant": {"name": ERASED, "preferred_contact": ERASED, "under_18": False},
            "notes": [ERASED, "No answer"],
            "count": 3,
        },
        "typename": "Task",
    }
    assert changed == 3
