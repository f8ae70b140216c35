"""Check the JSON Schema formats forms use; ``email`` is checked as a mail system would.

jsonschema's own ``email`` check only looks for an "@": a line break or a space in an address
passes, and such an address later stops the letter from being built. Every ``format: email``
answer goes through ``email-validator`` instead (syntax only: no DNS look-ups, so a form never
waits on the network).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft202012Validator, FormatChecker

LONGEST_EMAIL = 254  # RFC 5321's limit on a forward path


def email_problem(address: str) -> str | None:
    """Return why an address cannot be mailed to, or None if it can."""
    if len(address) > LONGEST_EMAIL:
        return f"The address is longer than {LONGEST_EMAIL} characters."
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


def _is_email(instance: object) -> bool:
    # Formats apply to strings only; other types are the "type" keyword's business.
    return not isinstance(instance, str) or email_problem(instance) is None


def _checker() -> FormatChecker:
    """Return the draft 2020-12 format checker with our email check in place of jsonschema's."""
    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("email")(_is_email)
    checker.checks("idn-email")(_is_email)
    return checker


FORMAT_CHECKER = _checker()
