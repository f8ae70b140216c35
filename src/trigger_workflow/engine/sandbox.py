"""Run diagrams' scripts, conditions and decision cells in a restricted Python, with a time limit.

Scripts are compiled with RestrictedPython's `compile_restricted` (no names or attributes that
start with an underscore, no frame or code attributes, no `nonlocal`, no exception groups) and run
with its guards for attribute and item access, writes, iteration and unpacking, over a small set
of builtins: no `open`, no `import`, no `getattr` of private names, no `type`. On top of that:

- **Time**: compiling adds a call to `_tick_()` at the top of every loop body, function body and
  comprehension step. It counts, checks the clock every few hundred passes, and past the limit
  raises `ScriptTimedOut` (a `BaseException`). The check is in the script's own code, so it works
  in any thread: gunicorn's worker processes, Flask's threaded development server and the timer
  worker alike. A `signal` timer reaches only the main thread, and a `sys.settrace` budget is
  switched off for good once its exception is caught, and misses a one-line `while True: pass`
  (no new line events). So that nothing swallows the stop, a bare `except:`, `try … finally` and
  `BaseException` itself are refused, and the check fires again at every later pass anyway.
- **Memory**: repetition (`*`), powers (`**`), shifts (`<<`) and concatenation (`+`) go through
  a guard that refuses results over `MAX_ITEMS` elements or `MAX_INT_BITS` bits before they are
  made; `range`, and the string methods that pad or join, are bounded the same way. A process-wide
  `resource` limit would take down the web worker with the script, and a subprocess per script
  would cost more than the rest of a task completion together.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import math
import operator
import re
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

SCRIPT_FILENAME = "<string>"  # the name SpiffWorkflow looks for to find a failing line
TIME_LIMIT_SECONDS = 2.0
MAX_ITEMS = 1_000_000
MAX_INT_BITS = 100_000
CHECK_CLOCK_EVERY = 200
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
        "sum",
        "tuple",
        "zip",
    )
} | {"date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone}


class ScriptRefused(Exception):
    """A script tries something diagrams may not do: import, private names, huge values."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


class ScriptTimedOut(BaseException):
    """A script ran past its time limit (a BaseException, so `except Exception` cannot hide it)."""


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus guards on operators that can allocate without bound."""

    GUARDED = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Add: "+", ast.Mod: "%"}

    def visit_BinOp(self, node: ast.BinOp) -> Any:  # noqa: N802 (the ast visitor names)
        """Route `*`, `**`, `<<` and `+` through the size guard."""
        node = self.node_contents_visit(node)
        symbol = self.GUARDED.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        return _located(call, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse f-string widths that would make huge strings, and widths computed at run time."""
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr):
            for part in spec.values:
                if not isinstance(part, ast.Constant):
                    self.error(node, "An f-string's format may not be computed: write it out.")
                elif any(int(n) > MAX_ITEMS for n in re.findall(r"\d+", str(part.value))):
                    self.error(node, f"An f-string's width may not exceed {MAX_ITEMS:,}.")
        return self.node_contents_visit(node)

    def visit_While(self, node: ast.While) -> Any:  # noqa: N802 (the ast visitor names)
        """Count every pass of a loop against the time limit."""
        node = self.node_contents_visit(node)
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_For(self, node: ast.For) -> Any:  # noqa: N802 (the ast visitor names)
        """Count every pass of a loop against the time limit."""
        result = super().visit_For(node)
        assert isinstance(result, ast.For)
        result.body.insert(0, _tick_statement(node))
        return result

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:  # noqa: N802 (the ast visitor names)
        """Count every call of a function against the time limit."""
        result = super().visit_FunctionDef(node)
        assert isinstance(result, ast.FunctionDef)
        result.body.insert(0, _tick_statement(node))
        return result

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        """Count every pass of a comprehension against the time limit."""
        result = super().visit_comprehension(node)
        assert isinstance(result, ast.comprehension)
        result.ifs.insert(0, _tick_call(result.iter))
        return result

    def visit_Try(self, node: ast.Try) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse `finally` and bare `except`: they could outlive the time limit."""
        if node.finalbody:
            self.error(node, "'try … finally' is not allowed in diagram scripts.")
        for handler in node.handlers:
            if handler.type is None:
                self.error(handler, "A bare 'except:' is not allowed: name the exception caught.")
        return self.node_contents_visit(node)

    def visit_Import(self, node: ast.Import) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse imports when compiling, naming the module."""
        names = ", ".join(alias.name for alias in node.names)
        self.error(node, f"Scripts may not import modules (import {names}).")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse imports when compiling, naming the module."""
        self.error(node, f"Scripts may not import modules (from {node.module} import …).")


def _tick_call(where: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
    return _located(call, where)


def _tick_statement(where: ast.AST) -> ast.Expr:
    return _located(ast.Expr(_tick_call(where)), where)


def _located(node: Any, where: ast.AST) -> Any:
    """Give generated nodes the source position of the code they guard."""
    for child in ast.walk(node):
        ast.copy_location(child, where)
    return node


LINE = re.compile(r"^Line (\d+): (.*)$")


@lru_cache(maxsize=2048)
def compile_script(source: str, mode: str) -> CodeType:
    """Compile a script ('exec') or expression ('eval') under the sandbox's rules, or refuse it."""
    try:
        with warnings.catch_warnings():
            # "Prints, but never reads 'printed'": print() output is collected and dropped.
            warnings.simplefilter("ignore", SyntaxWarning)
            return compile_restricted(source, SCRIPT_FILENAME, mode, policy=SandboxPolicy)  # type: ignore[arg-type]
    except SyntaxError as error:
        messages = error.args[0] if error.args else str(error)
        if isinstance(messages, (list, tuple)) and messages:
            first = LINE.match(str(messages[0]))
            if first:
                text = "; ".join(LINE.sub(r"\2", str(m)) for m in messages)
                raise ScriptRefused(text, int(first.group(1))) from None
            raise ScriptRefused("; ".join(map(str, messages)), error.lineno) from None
        raise


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
            "getattr": _getattr_builtin,
            "__import__": _import,
        }
        | dict(functions)
    )


class _Budget:
    """The time one script run may take, checked at every loop pass and function call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ticks = 0
        self.deadline = time.monotonic() + seconds

    def tick(self) -> bool:
        """Count one pass; once the time is up, stop the script (again at each later pass)."""
        self.ticks += 1
        if self.ticks % CHECK_CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise ScriptTimedOut(
                f"The script ran for more than {self.seconds:g} seconds and was stopped."
            )
        return True


@contextmanager
def _stopped_in_time() -> Iterator[None]:
    """Run the block under a time limit; a timeout becomes an ordinary, catchable refusal."""
    try:
        yield
    except ScriptTimedOut as error:
        frames = [
            f for f in traceback.extract_tb(error.__traceback__) if f.filename == SCRIPT_FILENAME
        ]
        raise ScriptRefused(str(error), frames[-1].lineno if frames else None) from None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluate expressions and run scripts over task data in the sandbox."""

    def __init__(
        self, functions: Mapping[str, Any] | None = None, time_limit: float = TIME_LIMIT_SECONDS
    ) -> None:
        super().__init__({})
        self.time_limit = time_limit
        self.guards: dict[str, Any] = {
            "__builtins__": restricted_builtins(functions or {}),
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

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        """Return the value of an expression over the task data."""
        code = compile_script(expression, "eval")
        scope = {**(external_context or {}), **context, **self.guards}
        scope["_tick_"] = _Budget(self.time_limit).tick
        with _stopped_in_time():
            return eval(code, scope)

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> bool:
        """Run a script over the task data; what it assigns becomes task data."""
        code = compile_script(script, "exec")
        external = external_context or {}
        scope = {**external, **context, **self.guards}
        scope["_tick_"] = _Budget(self.time_limit).tick
        with _stopped_in_time():
            exec(code, scope)
        # As SpiffWorkflow's own environment: functions and injected names never become data.
        kept = {
            name: value
            for name, value in scope.items()
            if not name.startswith("_")
            and name not in external
            and not callable(value)
            and not isinstance(value, type)
        }
        context.clear()
        context.update(kept)
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over the restricted environment."""

    def __init__(
        self, functions: Mapping[str, Any] | None = None, time_limit: float = TIME_LIMIT_SECONDS
    ) -> None:
        super().__init__(environment=RestrictedEnvironment(functions, time_limit))

    def validate(self, expression: str) -> None:
        """Check an expression parses (DMN cells use this to decide whether to add '==')."""
        ast.parse(expression)

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """Find the failing line, including for scripts refused when compiled."""
        if isinstance(err, ScriptRefused) and err.lineno:
            lines = script.splitlines()
            line = err.lineno
            return line, lines[line - 1] if 0 < line <= len(lines) else ""
        result: tuple[int, str] = super().get_error_line_number_and_content(script, err)
        return result


def script_functions() -> dict[str, Any]:
    """Return the helper functions diagrams may call (engine/script_functions.py), if any."""
    try:
        module = importlib.import_module("trigger_workflow.engine.script_functions")
    except ModuleNotFoundError:
        return {}
    return dict(getattr(module, "FUNCTIONS", {}))


@lru_cache(maxsize=1)
def default_engine() -> SandboxedScriptEngine:
    """Return the one script engine every workflow runs with (it holds no per-case state)."""
    return SandboxedScriptEngine(script_functions())
