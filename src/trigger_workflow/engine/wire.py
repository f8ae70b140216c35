"""Write task data as JSON for the script workers' pipes, and read it back, within bounds.

The values are those the case's serializer keeps (engine/serialization.py): JSON's own, plus
`datetime`, `date`, `timedelta` and `UUID` written as the serializer writes them (a dict with a
`typename`), and sets as lists. Anything else, data nested deeper than `MAX_DEPTH`, or more than
the byte limit, is refused with a `DataNotKept` saying which: such data could not be saved either.
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO
from uuid import UUID

MAX_DEPTH = 100  # lists and dicts within each other; the serializer recurses about twice per level
HEADER = struct.Struct(">I")  # each message on a pipe: its length, then its bytes
READY = b"ready"  # a new worker's first message


class DataNotKept(ValueError):
    """Data that cannot be kept in a case: a value of an unknown type, too deep, or too big."""


def _datetime(value: datetime) -> dict[str, Any]:
    return {"value": value.isoformat(), "typename": "datetime"}


def _date(value: date) -> dict[str, Any]:
    return {"value": value.isoformat(), "typename": "date"}


def _timedelta(value: timedelta) -> dict[str, Any]:
    return {
        "days": value.days,
        "seconds": value.seconds,
        "microseconds": value.microseconds,
        "typename": "timedelta",
    }


def _uuid(value: UUID) -> dict[str, Any]:
    return {"value": str(value), "typename": "UUID"}


WRITE: dict[type, Callable[[Any], dict[str, Any]]] = {
    datetime: _datetime,
    date: _date,
    timedelta: _timedelta,
    UUID: _uuid,
}
READ: dict[str, Callable[[dict[str, Any]], Any]] = {
    "datetime": lambda d: datetime.fromisoformat(d["value"]),
    "date": lambda d: date.fromisoformat(d["value"]),
    "timedelta": lambda d: timedelta(d["days"], d["seconds"], d.get("microseconds", 0)),
    "UUID": lambda d: UUID(d["value"]),
}


def _default(value: Any) -> Any:
    write = WRITE.get(type(value))
    if write is not None:
        return write(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise DataNotKept(f"a value of type {type(value).__name__} cannot be kept in a case's data")


def _restored(dct: dict[str, Any]) -> Any:
    typename = dct.get("typename")
    read = READ.get(typename) if isinstance(typename, str) else None
    return dct if read is None else read(dct)


def encode(value: Any) -> bytes:
    """Return value as JSON bytes (what the web process sends its script workers)."""
    try:
        return json.dumps(value, default=_default, separators=(",", ":")).encode("utf-8")
    except (RecursionError, ValueError, TypeError, OverflowError) as error:
        if isinstance(error, DataNotKept):
            raise
        raise DataNotKept(f"the data cannot be written: {error}") from None


def encode_bounded(value: Any, max_bytes: int) -> bytes:
    """Return value as JSON bytes; refuse unknown types, deep nesting and more than max_bytes.

    It lowers the process's recursion limit while it writes: call it only in a script worker,
    which has one thread.
    """
    written = [0]

    def default(value: Any) -> Any:
        written[0] += 1
        return _default(value)

    limit = sys.getrecursionlimit()
    # The C encoder counts each nested list or dict against the recursion limit: lower it.
    sys.setrecursionlimit(_depth() + MAX_DEPTH + 5)
    try:
        text = json.dumps(value, default=default, separators=(",", ":"))
    except RecursionError:
        raise DataNotKept(f"the data is nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, TypeError, OverflowError) as error:
        if isinstance(error, DataNotKept):
            raise
        raise DataNotKept(f"the data cannot be written: {error}") from None
    finally:
        sys.setrecursionlimit(limit)
    # A key "typename" marks a value the serializer restores by type: one a script wrote itself
    # would be restored as that type (or break the case) when the case is next loaded.
    if text.count('"typename":') > written[0]:
        raise DataNotKept("a dict may not have the key 'typename': the case's serializer uses it")
    data = text.encode("utf-8")
    if len(data) > max_bytes:
        raise DataNotKept(
            f"the data would take {len(data):,} bytes; the limit is {max_bytes:,} bytes"
        )
    return data


def decode(data: bytes) -> Any:
    """Return the value JSON bytes written by `encode` hold."""
    return json.loads(data, object_hook=_restored)


def _depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    return depth


def read_frame(stream: BinaryIO) -> bytes | None:
    """Read one length-prefixed message; None when the other end has closed the pipe."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    body = stream.read(length)
    return body if len(body) == length else None


def write_frame(stream: BinaryIO, body: bytes) -> None:
    """Write one length-prefixed message."""
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()
