"""What restricted scripts may call and reach: size guards, attribute guards, builtins."""

from __future__ import annotations

import builtins
import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from RestrictedPython import safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector

MAX_ITEMS = 1_000_000
MAX_INT_BITS = 100_000
REFUSED_ATTRIBUTES = frozenset({"mro", "format", "format_map"})
SIZED_STRING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
# Exceptions a script may raise and catch; BaseException and its other direct children stay out,
# so no handler can swallow ScriptTimedOut.
HIDDEN_BUILTINS = frozenset({"BaseException", "GeneratorExit", "KeyboardInterrupt", "SystemExit"})
EXTRA_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in (
        "all",
        "any",
        "dict",
        "enumerate",
        "filter",
        "frozenset",
        "list",
        "map",
        "max",
        "min",
        "reversed",
        "set",
        "sorted",
        "tuple",
        "zip",
    )
} | {"date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone}


class ScriptRefused(Exception):
    """A script tries something diagrams may not do: import, private names, huge values."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


class ScriptFailed(Exception):
    """A script failed in its worker process with an error Python has no plain class for."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


class ScriptTimedOut(BaseException):
    """A script ran past its time limit (a BaseException, so `except Exception` cannot hide it)."""


def _binop(symbol: str, left: Any, right: Any) -> Any:
    if symbol == "+":
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, type(left)):
            _check_items(len(left) + len(right))
        return left + right
    if symbol == "*":
        if isinstance(right, int) and isinstance(left, (str, bytes, list, tuple)):
            _check_items(len(left) * right)
        elif isinstance(left, int) and isinstance(right, (str, bytes, list, tuple)):
            _check_items(len(right) * left)
        return left * right
    if symbol == "%":
        if isinstance(left, (str, bytes)):
            _check_format(left, right)
        return left % right
    if symbol == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            _check_bits(right * math.log2(abs(left)))
        return left**right
    if isinstance(left, int) and isinstance(right, int) and right > 0:  # "<<"
        _check_bits(left.bit_length() + right)
    return left << right


def _pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    """`pow`, with the size check `**` has (a three-argument pow stays below its modulus)."""
    if modulus is None:
        return _binop("**", base, exponent)
    return pow(base, exponent, modulus)


def _sum(values: Any, start: Any = 0) -> Any:
    """`sum`, adding one item at a time through the `+` guard, so joined lists stay in bounds."""
    if isinstance(start, list):
        # Joined in place on a copy: linear, where `total + value` copies the whole each time.
        joined, rest = list(start), iter(values)
        for value in rest:
            if not isinstance(value, list):
                return _sum(rest, _binop("+", joined, value))
            _check_items(len(joined) + len(value))
            joined.extend(value)
        return joined
    total = start
    for value in values:
        total = _binop("+", total, value)
    return total


def _check_format(template: str | bytes, args: Any) -> None:
    """Refuse %-formatting whose widths (written, or given by '*') would make a huge string."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    if any(int(n) > MAX_ITEMS for n in re.findall(r"\d+", text)):
        _check_items(MAX_ITEMS + 1)
    values = args if isinstance(args, tuple) else (args,)
    if "*" in text and any(isinstance(v, int) and abs(v) > MAX_ITEMS for v in values):
        _check_items(max(abs(v) for v in values if isinstance(v, int)))


def _check_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise ScriptRefused(
            f"The script would make a value of {count:,} items; the limit is {MAX_ITEMS:,}."
        )


def _check_bits(bits: float) -> None:
    if bits > MAX_INT_BITS:
        raise ScriptRefused(
            f"The script would make a number of about {int(bits):,} bits; "
            f"the limit is {MAX_INT_BITS:,}."
        )


INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": lambda a, b: _binop("+", a, b),
    "-=": operator.sub,
    "*=": lambda a, b: _binop("*", a, b),
    "/=": operator.truediv,
    "//=": operator.floordiv,
    "%=": lambda a, b: _binop("%", a, b),
    "**=": lambda a, b: _binop("**", a, b),
    "<<=": lambda a, b: _binop("<<", a, b),
    ">>=": operator.rshift,
    "&=": operator.and_,
    "|=": operator.or_,
    "^=": operator.xor,
    "@=": operator.matmul,
}


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    return INPLACE[op](left, right)


def _getattr(obj: Any, name: str, default: Any = None) -> Any:
    if not isinstance(name, str):
        raise TypeError("An attribute name must be a string.")
    if name in REFUSED_ATTRIBUTES or name.startswith("_"):
        raise ScriptRefused(f"Scripts may not use the attribute '{name}'.")
    value = safer_getattr(obj, name, default)
    if isinstance(obj, list) and name == "extend":
        return _extended(obj, value)
    if isinstance(obj, (str, bytes)) and name in SIZED_STRING_METHODS:
        return _sized(value)
    if isinstance(obj, (str, bytes)) and name == "join":
        return _joined(value)
    if isinstance(obj, (str, bytes)) and name == "replace":
        return _replaced(obj, value)
    return value


def _extended(items: list[Any], method: Callable[..., Any]) -> Callable[..., Any]:
    def call(more: Any) -> Any:
        if hasattr(more, "__len__"):
            _check_items(len(items) + len(more))
        return method(more)

    return call


def _replaced(text: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    def call(old: Any, new: Any, *count: Any) -> Any:
        grows = len(new) - len(old)
        if grows > 0:
            times = text.count(old) if old else len(text) + 1
            if count and isinstance(count[0], int) and count[0] >= 0:
                times = min(times, count[0])
            _check_items(len(text) + times * grows)
        return method(old, new, *count)

    return call


def _sized(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if args and isinstance(args[0], int):
            _check_items(args[0])
        return method(*args)

    return call


def _joined(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(parts: Any) -> Any:
        parts = list(parts)
        _check_items(sum(len(p) for p in parts if isinstance(p, (str, bytes))))
        return method(parts)

    return call


def _range(*args: int) -> range:
    result = range(*args)
    _check_items(len(result))
    return result


def _import(name: str, *args: Any, **kwargs: Any) -> Any:
    raise ScriptRefused(f"Scripts may not import modules (import {name}).")


def _refused_builtin(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ScriptRefused(f"Scripts may not use {name}().")

    return refuse


REFUSED_BUILTINS = (
    "open",
    "eval",
    "exec",
    "compile",
    "globals",
    "locals",
    "vars",
    "input",
    "breakpoint",
    "help",
    "type",
    "object",
    "super",
    "iter",
    "next",
    "dir",
    "memoryview",
    "bytearray",
    "classmethod",
    "staticmethod",
    "property",
)


def _getattr_builtin(obj: Any, name: str, *default: Any) -> Any:
    return _getattr(obj, name, *default) if default else _getattr(obj, name)


def restricted_builtins(functions: Mapping[str, Any]) -> dict[str, Any]:
    """Return the builtins scripts see: RestrictedPython's safe set, a few more, and `functions`."""
    allowed = {k: v for k, v in safe_builtins.items() if k not in HIDDEN_BUILTINS}
    return (
        allowed
        | {name: _refused_builtin(name) for name in REFUSED_BUILTINS}
        | EXTRA_BUILTINS
        | {
            "range": _range,
            "pow": _pow,
            "sum": _sum,
            "getattr": _getattr_builtin,
            "__import__": _import,
        }
        | dict(functions)
    )


def guard_globals(functions: Mapping[str, Any]) -> dict[str, Any]:
    """Return the names RestrictedPython's compiled code calls, bound to this sandbox's guards."""
    return {
        "__builtins__": restricted_builtins(functions),
        "__name__": "diagram_script",
        "__metaclass__": type,
        "_getattr_": _getattr,
        "_getitem_": operator.getitem,
        "_getiter_": iter,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": _inplacevar,
        "_binop_": _binop,
        "_print_": PrintCollector,
    }
