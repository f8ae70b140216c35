"""Say which values in a case's data are personal, and whose (UK GDPR, issue 13).

An event's `data` (an application, an officer's answers) and `detail` (what the engine did) are
walked leaf by leaf. Each personal leaf gets a *subject*: the person it is about, so that one
person's data can be erased, exported or redacted on its own:

- `applicant`, `victim`, `responsible_adult`: every value under the application's group of that
  name (`/applicant/name`, `/victim/date_of_birth`…);
- `case`: free text about the case (what happened, where, the officers' reasons and notes). It is
  about the applicant and often names third parties: it is erased with the case, and shown to a
  requester only after review.

A value is not personal when it is a closed choice, a date, a number or a yes/no outside a
person's group: the threshold outcome, the agencies chosen, the meeting date. Those keep the
case's shape and the statutory figures after erasure. Anything unknown is personal: a new free
text field on a form is erased without anyone having to list it.

Paths are JSON Pointers (RFC 6901): `/incidents/0/location`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from threading import Lock
from typing import Any

from trigger_workflow.store.chain import is_sealed

APPLICANT, VICTIM, RESPONSIBLE_ADULT, CASE = "applicant", "victim", "responsible_adult", "case"
PERSON_GROUPS = (APPLICANT, VICTIM, RESPONSIBLE_ADULT)
SUBJECTS = (*PERSON_GROUPS, CASE)
SUBJECT_NAMES = {
    APPLICANT: "the applicant",
    VICTIM: "the victim (applied for by someone else)",
    RESPONSIBLE_ADULT: "the responsible adult",
    CASE: "what the case says (free text)",
}

# Keys of what the service itself writes into events' detail: stages, tasks, versions, timings.
# Any other key of a detail (an incident's message, the values a correction replaced) is personal.
SYSTEM_DETAIL_KEYS = frozenset(
    {
        "agency",
        "attempts",
        "automatic",
        "context",
        "element",
        "element_name",
        "engine_now",
        "erasure",
        "from",
        "from_version",
        "from_version_id",
        "incident",
        "line",
        "local_rules",
        "number",
        "outcome",
        "process_version",
        "process_version_id",
        "ready",
        "recommendation",
        "review",
        "stage",
        "status",
        "subjects",
        "to",
        "to_version",
        "under",
    }
)
# Closed choices the service's own pages write outside forms (a recommendation's progress form).
SERVICE_CLOSED_KEYS = frozenset({"status"})
ERASED = "[erased]"  # what an erased value reads as wherever it is shown
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$")


def pointer(parts: tuple[str | int, ...]) -> str:
    """Write a path as a JSON Pointer."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def parse_pointer(path: str) -> list[str]:
    """Split a JSON Pointer into its reference tokens."""
    if not path:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


Path = tuple[str | int, ...]


def leaves(value: Any, parts: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Yield every leaf (not a dict or list; a sealed value is a leaf) of a JSON value."""
    if isinstance(value, Mapping):
        if is_sealed(value):
            yield parts, value
            return
        for key, item in value.items():
            yield from leaves(item, (*parts, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*parts, index))
    else:
        yield parts, value


def readable(value: Any) -> Any:
    """Return a JSON value with each erased (sealed) leaf shown as ERASED, for pages and exports."""
    if is_sealed(value):
        return ERASED
    if isinstance(value, Mapping):
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value


def classify_data(value: Mapping[str, Any] | None, closed_keys: frozenset[str]) -> dict[str, str]:
    """Return {path: subject} for the personal leaves of task or application data."""
    found: dict[str, str] = {}
    for parts, leaf in leaves(value or {}):
        subject = _subject(parts, leaf, closed_keys)
        if subject:
            found[pointer(parts)] = subject
    return found


def classify_detail(value: Mapping[str, Any] | None) -> dict[str, str]:
    """Return {path: subject} for the personal leaves of an event's detail."""
    found: dict[str, str] = {}
    for parts, leaf in leaves(value or {}):
        if parts and parts[0] not in SYSTEM_DETAIL_KEYS and leaf is not None:
            found[pointer(parts)] = CASE
    return found


def _subject(parts: Path, leaf: Any, closed_keys: frozenset[str]) -> str | None:
    if not parts or leaf is None:
        return None
    if parts[0] in PERSON_GROUPS:
        return str(parts[0])
    if isinstance(leaf, bool | int | float) or leaf == "":
        return None
    if not isinstance(leaf, str):
        return CASE
    key = next((p for p in reversed(parts) if isinstance(p, str)), "")
    if key in closed_keys or key in SERVICE_CLOSED_KEYS or _ISO_DATE.match(leaf):
        return None
    return CASE


def closed_keys(forms: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """Return the field names that are closed choices, dates, numbers or yes/no in every form
    that has them (a name that is free text in any form stays personal)."""
    closed: set[str] = set()
    open_: set[str] = set()
    for schema in forms.values():
        _walk_schema(schema, closed, open_)
    return frozenset(closed - open_)


_closed_by_version: dict[str, frozenset[str]] = {}
_closed_lock = Lock()


def closed_keys_of_files(content_hash: str, files: Mapping[str, str]) -> frozenset[str]:
    """`closed_keys` of a process version's forms (files by name), remembered per content."""
    with _closed_lock:
        known = _closed_by_version.get(content_hash)
    if known is not None:
        return known
    forms = {}
    for name, text in files.items():
        if name.startswith("forms/") and name.endswith(".json") and not name.endswith("_ui.json"):
            try:
                forms[name] = json.loads(text)
            except ValueError:
                continue
    keys = closed_keys(forms)
    with _closed_lock:
        _closed_by_version[content_hash] = keys
    return keys


def _walk_schema(schema: Any, closed: set[str], open_: set[str], key: str | None = None) -> None:
    if not isinstance(schema, Mapping):
        return
    for name, sub in (schema.get("properties") or {}).items():
        _walk_schema(sub, closed, open_, name)
    if isinstance(schema.get("items"), Mapping):
        _walk_schema(schema["items"], closed, open_, key)
    for combinator in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(combinator) or []:
            if isinstance(sub, Mapping) and "const" not in sub:
                _walk_schema(sub, closed, open_, key)
    for branch in ("if", "then", "else"):
        _walk_schema(schema.get(branch), closed, open_, key)
    for sub in (schema.get("dependencies") or {}).values():
        _walk_schema(sub, closed, open_, key)
    if key is None or "properties" in schema or "items" in schema:
        return
    (closed if _is_closed(schema) else open_).add(key)


def _is_closed(schema: Mapping[str, Any]) -> bool:
    if "enum" in schema or "const" in schema:
        return True
    choices = schema.get("oneOf") or schema.get("anyOf")
    if choices and all(isinstance(c, Mapping) and "const" in c for c in choices):
        return True
    if schema.get("format") in ("date", "date-time"):
        return True
    return schema.get("type") in ("boolean", "integer", "number")
