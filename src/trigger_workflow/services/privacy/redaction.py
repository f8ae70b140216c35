"""Find erased persons' values in text and JSON, and put "[erased]" in their place (issue 13).

The values come from the case's events (what `event_erasure.erase_from_events` sealed): names,
addresses, postcodes, emails, phone numbers, free text. They are looked for

- as a whole value anywhere (a JSON leaf, a column equal to one of them), and
- inside text (a letter, an email's body, an incident's message), case-insensitively, as whole
  words, each line of a multi-line address on its own, and as HTML writes them (`O&#39;Brien`).

A value that is one of the forms' closed choices ("email", "post") or a date is not looked for
outside the person's own answers: it identifies nobody, and "by email" in a letter is not the
applicant's preferred contact. Values shorter than three characters are matched only whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from trigger_workflow.services.privacy.personal_data import ERASED

MIN_SEARCHED = 3  # characters: shorter values are matched only as a whole value
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$")


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Redactor:
    """The values to erase, ready to be found."""

    whole: frozenset[str]  # normalised values matched as a whole
    pattern: re.Pattern[str] | None  # values searched for inside text

    def __bool__(self) -> bool:
        return bool(self.whole) or self.pattern is not None

    def holds(self, text: str) -> bool:
        """Return whether the text is, or contains, one of the values."""
        if _normal(text) in self.whole:
            return True
        return self.pattern is not None and self.pattern.search(text) is not None

    def leaf(self, text: str) -> str:
        """Return "[erased]" for a text that is or contains a value, else the text."""
        return ERASED if text != ERASED and self.holds(text) else text

    def text(self, text: str) -> str:
        """Return the text with each value in it replaced by "[erased]"."""
        if text == ERASED:
            return text
        if _normal(text) in self.whole:
            return ERASED
        if self.pattern is None:
            return text
        return self.pattern.sub(ERASED, text)


def redactor(values: Iterable[str], closed: Iterable[str] = ()) -> Redactor:
    """Return a Redactor for these values, leaving out closed choices and dates."""
    skip = {_normal(c) for c in closed}
    whole: set[str] = set()
    searched: set[str] = set()
    for value in values:
        normal = _normal(value)
        if not normal or normal in skip or normal == _normal(ERASED) or _DATE.match(normal):
            continue
        whole.add(normal)
        for variant in (value, *value.splitlines()):
            words = variant.split()
            if len(" ".join(words)) < MIN_SEARCHED or _normal(variant) in skip:
                continue
            searched.add(" ".join(words))
            searched.add(" ".join(str(escape(w)) for w in words))
    if not searched:
        return Redactor(frozenset(whole), None)
    # Longest first, so that "Alex Morgan" goes whole before "Alex" could; spaces match any
    # whitespace (a name broken over two lines of a letter).
    alternatives = [
        r"\s+".join(re.escape(w) for w in text.split())
        for text in sorted(searched, key=len, reverse=True)
    ]
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    return Redactor(frozenset(whole), pattern)


def closed_choices(forms: Mapping[str, Any]) -> frozenset[str]:
    """Return every string a form offers as a closed choice (enum and const values)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, item in node.items():
                if key == "const" and isinstance(item, str):
                    found.add(item)
                elif key == "enum" and isinstance(item, list):
                    found.update(i for i in item if isinstance(i, str))
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(forms)
    return frozenset(found)


# Keys of SpiffWorkflow's serialized state that say where the workflow is, never what it holds.
STRUCTURAL_KEYS = frozenset(
    {
        "typename",
        "task_spec",
        "id",
        "parent",
        "children",
        "last_task",
        "state",
        "last_state_change",
        "triggered",
        "completed",
        "success",
        "root",
    }
)
# Typenames of values the serializer writes as objects (dates, times): a leaf, not a container.
VALUE_TYPENAMES = frozenset({"date", "datetime", "timedelta", "time"})


def scrub_json(value: Any, redact: Redactor, groups: Iterable[str] = ()) -> tuple[Any, int]:
    """Return a copy of a JSON value with erased values replaced, and how many leaves changed.

    Every string under a key named by `groups` (the erased persons' application groups:
    "applicant"…) is erased whatever it says; any other string leaf that is or contains a value
    becomes "[erased]". Numbers, booleans and structure stay, so the shape is kept.
    """
    wanted = frozenset(groups)
    changed = 0

    def walk(node: Any, whole: bool) -> Any:
        nonlocal changed
        if isinstance(node, dict):
            if node.get("typename") in VALUE_TYPENAMES:
                text = str(node.get("value", ""))
                if whole or redact.holds(text):
                    changed += 1
                    return ERASED
                return node
            return {
                key: item
                if key in STRUCTURAL_KEYS and not whole
                else walk(item, whole or key in wanted)
                for key, item in node.items()
            }
        if isinstance(node, list):
            return [walk(item, whole) for item in node]
        if isinstance(node, str):
            new = (ERASED if node != ERASED else node) if whole else redact.leaf(node)
            if new != node:
                changed += 1
            return new
        return node

    return walk(value, False), changed
