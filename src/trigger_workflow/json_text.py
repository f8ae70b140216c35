"""Read JSON text quickly, giving the same values as the json module."""

from __future__ import annotations

import json
from typing import Any

import orjson


def read_json(text: str | bytes) -> Any:
    """Read JSON text: orjson (several times faster than the json module, the same values), or
    the json module for what orjson refuses (integers beyond 64 bits, NaN, lone surrogates)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
