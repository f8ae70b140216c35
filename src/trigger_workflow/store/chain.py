"""Hash an event's content and the hash of the event before it: the case history's chain.

Pure functions over plain values, so that the migration that fills in old events, the code that
appends new ones and the auditor's verification all compute exactly the same thing.

Personal values (issue 13) are committed to, not hashed as they are: an event's `personal` names
the leaves of its `data` and `detail` that are personal and whose, and the hash is taken over a
*sealed* copy where each of those leaves is {"$sealed": HMAC(subject's salt, path + value)}.
Erasing a value means writing that same {"$sealed": ...} in its place (and destroying the salt):
the sealed copy, and so the hash, do not change, while any other change to a value does.
Events recorded before (personal is None) are hashed over their values as they always were.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = ""  # the "previous hash" of a case's first event
SEALED = "$sealed"  # the key of the object a personal value is committed to (and erased to) by
CONTENT_FIELDS = (
    "case_id",
    "seq",
    "occurred_at",
    "actor",
    "kind",
    "task_id",
    "task_spec",
    "task_name",
    "data",
    "detail",
)


def canonical_time(moment: datetime) -> str:
    """Write a moment the same way whichever database it was read from (UTC, microseconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Serialize a value as sorted-key, compact JSON: one text for one content."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def _fast_canonical_bytes(value: Any) -> bytes:
    """The same text as canonical_json for the values events hold, written by orjson (several
    times faster). Used only to check a hash: a text that differs cannot match (SHA-256), and a
    mismatch is checked again the canonical way (`event_hash_matches`)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def as_stored(value: dict[str, Any] | None) -> dict[str, Any]:
    """Return a value as a JSON column gives it back (lists for tuples, string keys)."""
    return json.loads(canonical_json(value or {})) if value else {}


class SaltMissing(ValueError):
    """A personal value is still there, but its subject's salt is not (destroyed or never made)."""

    def __init__(self, path: str, subject: str) -> None:
        super().__init__(f"{path} ({subject})")
        self.path = path
        self.subject = subject


def event_hash(
    content: Mapping[str, Any],
    prev_hash: str,
    salts: Mapping[str, bytes] | None = None,
    *,
    _dumps: Callable[[Any], bytes] = _canonical_bytes,
) -> str:
    """Return the SHA-256 of an event's content (CONTENT_FIELDS) chained to the previous hash.

    `data` and `detail` must be as stored (see `as_stored`): what is hashed when an event is
    written must be what is read back when it is verified. When the content names personal
    leaves (`personal`), they are hashed sealed with their subjects' `salts`: a leaf whose salt
    is missing and that is not already sealed raises SaltMissing.
    """
    fields = {name: content.get(name) for name in CONTENT_FIELDS}
    when = fields["occurred_at"]
    if isinstance(when, datetime):
        fields["occurred_at"] = canonical_time(when)
    fields["data"] = fields["data"] or {}
    fields["detail"] = fields["detail"] or {}
    personal = content.get("personal")
    if personal is not None:
        fields["personal"] = personal
        for part in ("data", "detail"):
            fields[part] = sealed(fields[part], personal.get(part) or {}, salts or {}, _dumps)
    return hashlib.sha256(_dumps({"content": fields, "prev_hash": prev_hash})).hexdigest()


def event_hash_matches(
    content: Mapping[str, Any], prev_hash: str, expected: str, salts: Mapping[str, bytes]
) -> bool:
    """Return whether an event's content and link hash to `expected` (verification's check):
    first with the fast writer, then, if that differs, exactly as the event was hashed."""
    try:
        if event_hash(content, prev_hash, salts, _dumps=_fast_canonical_bytes) == expected:
            return True
    except TypeError:  # orjson.JSONEncodeError: a value it cannot write (an integer over 64 bits)
        pass
    return event_hash(content, prev_hash, salts) == expected


def seal(
    salt: bytes, path: str, value: Any, _dumps: Callable[[Any], bytes] = _canonical_bytes
) -> dict[str, str]:
    """Return what a personal value is committed to (and replaced by when erased)."""
    message = (path + "\n").encode("utf-8") + _dumps(value)
    return {SEALED: hmac.new(salt, message, hashlib.sha256).hexdigest()}


def is_sealed(value: Any) -> bool:
    """Return whether a value is a sealed (erased) personal value."""
    return isinstance(value, Mapping) and len(value) == 1 and SEALED in value


def sealed(
    value: Any,
    paths: Mapping[str, str],
    salts: Mapping[str, bytes],
    _dumps: Callable[[Any], bytes] = _canonical_bytes,
) -> Any:
    """Return a copy of a JSON value with each personal leaf (path: subject) sealed.

    A leaf already sealed stays as it is; a path that is not there is left out, so removing a
    personal value shows as an alteration like any other change.
    """
    if not paths:
        return value
    copy = json.loads(_dumps(value))
    for path, subject in paths.items():
        parent, key, leaf = locate(copy, path)
        if is_sealed(leaf):
            continue
        salt = salts.get(subject)
        if salt is None:
            raise SaltMissing(path, subject)
        if parent is not None:
            parent[key] = seal(salt, path, leaf, _dumps)
    return copy


def locate(value: Any, path: str) -> tuple[Any, Any, Any]:
    """Return (parent, key, leaf) of a JSON Pointer in a value; (None, None, None) if absent."""
    parent: Any = None
    key: Any = None
    here = value
    for token in (
        [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")] if path else []
    ):
        parent = here
        if isinstance(here, dict) and token in here:
            key = token
        elif isinstance(here, list) and token.isdigit() and int(token) < len(here):
            key = int(token)
        else:
            return None, None, None
        here = here[key]
    return parent, key, here
