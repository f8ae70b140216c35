"""Run diagrams' scripts, conditions and decision cells in a restricted Python, in worker processes.

Two layers, each enough on its own for what it stops:

- **Out of process** (`engine/script_pool.py`, `engine/script_worker.py`): every script,
  condition, timer expression and decision cell of a live case runs in one of a few reused worker
  processes, each with an address-space limit (`RLIMIT_AS`) and a processor-time limit
  (`RLIMIT_CPU`). The web or timer process sends the task data over a pipe, waits with a
  wall-clock timeout, and kills and replaces a worker that overruns: one long C call
  (`3**60000` squared, comparing or printing huge nested lists, `sorted` with a slow key) or a
  value of gigabytes stops that worker, never the web worker, and the case gets an incident.
  Only data the case's serializer can keep comes back (`engine/wire.py`).
- **Restricted Python** (this module, inside each worker): scripts are compiled with
  RestrictedPython's `compile_restricted` (no names or attributes that start with an underscore,
  no frame or code attributes, no `nonlocal`, no exception groups) and run with its guards for
  attribute and item access, writes, iteration and unpacking, over a small set of builtins: no
  `open`, no `import`, no `getattr` of private names, no `type`. On top of that, compiling adds a
  call to `_tick_()` at the top of every loop body, function body and comprehension step, which
  stops a Python-level loop at the time limit with the line it was on (`ScriptTimedOut`, a
  `BaseException`; a bare `except:`, `try … finally` and `BaseException` itself are refused so
  nothing swallows it); and repetition (`*`), powers (`**`), shifts (`<<`), concatenation (`+`),
  `range` and the string methods that pad or join refuse results over `MAX_ITEMS` elements or
  `MAX_INT_BITS` bits before they are made.

`RestrictedEnvironment` runs in the calling process (the workers use it, and tests of the
guards); `IsolatedEnvironment` sends the work to the pool, and is what every workflow runs with.
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

from trigger_workflow.engine import script_pool
from trigger_workflow.engine.sandbox_compile import SCRIPT_FILENAME, compile_script
from trigger_workflow.engine.sandbox_guards import (
    MAX_INT_BITS,
    MAX_ITEMS,
    ScriptFailed,
    ScriptRefused,
    ScriptTimedOut,
    guard_globals,
    restricted_builtins,
)

__all__ = [
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "IsolatedEnvironment",
    "RestrictedEnvironment",
    "SandboxedScriptEngine",
    "ScriptFailed",
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

    def __init__(self, seconds: float, shown: float | None = None) -> None:
        self.shown = seconds if shown is None else shown  # the limit as the message names it
        self.ticks = 0
        self.deadline = time.monotonic() + seconds

    def tick(self) -> bool:
        """Count one pass; once the time is up, stop the script (again at each later pass)."""
        self.ticks += 1
        if self.ticks % CHECK_CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise ScriptTimedOut(
                f"The script ran for more than {self.shown:g} seconds and was stopped."
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
        self.shown_limit: float | None = None  # the limit a timeout names, when not time_limit
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
        scope["_tick_"] = _Budget(self.time_limit, self.shown_limit).tick
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
        scope["_tick_"] = _Budget(self.time_limit, self.shown_limit).tick
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


class IsolatedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluate expressions and run scripts in a worker process, under the pool's limits."""

    def __init__(self) -> None:
        super().__init__({})

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        """Return the value of an expression over the task data, computed in a worker."""
        return script_pool.run("eval", expression, context, external_context)

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> bool:
        """Run a script over the task data in a worker; the data it leaves becomes task data."""
        kept = script_pool.run("exec", script, context, external_context)
        context.clear()
        context.update(kept)
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over the restricted environment (by default in-process)."""

    def __init__(
        self,
        functions: Mapping[str, Any] | None = None,
        time_limit: float = TIME_LIMIT_SECONDS,
        environment: BasePythonScriptEngineEnvironment | None = None,
    ) -> None:
        super().__init__(environment=environment or RestrictedEnvironment(functions, time_limit))

    def validate(self, expression: str) -> None:
        """Check an expression parses (DMN cells use this to decide whether to add '==')."""
        ast.parse(expression)

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """Find the failing line, including for scripts refused when compiled."""
        line = getattr(err, "script_line", None)  # an error raised again from a worker
        if isinstance(err, (ScriptRefused, ScriptFailed)):
            line = err.lineno
        if line:
            lines = script.splitlines()
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
    """Return the one script engine every workflow runs with: out of process, in the sandbox."""
    return SandboxedScriptEngine(environment=IsolatedEnvironment())
