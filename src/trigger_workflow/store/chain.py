"""Hash an event's content and the hash of the event before it: the case history's chain.

Pure functions over plain values, so that the migration that fills in old events, the code that
appends new ones and the auditor's verification all compute exactly the same thing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = ""  # the "previous hash" of a case's first event
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


def as_stored(value: dict[str, Any] | None) -> dict[str, Any]:
    """Return a value as a JSON column gives it back (lists for tuples, string keys)."""
    return json.loads(canonical_json(value or {})) if value else {}


def event_hash(content: dict[str, Any], prev_hash: str) -> str:
    """Return the SHA-256 of an event's content (CONTENT_FIELDS) chained to the previous hash.

    `data` and `detail` must be as stored (see `as_stored`): what is hashed when an event is
    written must be what is read back when it is verified.
    """
    fields = {name: content.get(name) for name in CONTENT_FIELDS}
    when = fields["occurred_at"]
    if isinstance(when, datetime):
        fields["occurred_at"] = canonical_time(when)
    fields["data"] = fields["data"] or {}
    fields["detail"] = fields["detail"] or {}
    text = canonical_json({"content": fields, "prev_hash": prev_hash})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
