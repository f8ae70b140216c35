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
import importlib
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from trigger_workflow.engine.sandbox_compile import SCRIPT_FILENAME, compile_script
from trigger_workflow.engine.sandbox_guards import (
    MAX_INT_BITS,
    MAX_ITEMS,
    ScriptRefused,
    ScriptTimedOut,
    guard_globals,
    restricted_builtins,
)

__all__ = [
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "RestrictedEnvironment",
    "SandboxedScriptEngine",
    "ScriptRefused",
    "compile_script",
    "default_engine",
    "restricted_builtins",
    "script_functions",
]

TIME_LIMIT_SECONDS = 2.0
CHECK_CLOCK_EVERY = 200


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
        self.guards = guard_globals(functions or {})

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
