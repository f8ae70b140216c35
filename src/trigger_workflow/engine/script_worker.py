"""A script worker process: run diagrams' code sent over a pipe, under operating-system limits.

Started by `engine/script_pool.py` as `python -m trigger_workflow.engine.script_worker REQUESTS
REPLIES MEMORY_BYTES`, with an empty environment (no database address, no secret key). It caps its
own address space (`RLIMIT_AS`, hard and soft) before it reads anything, and before each request
its processor time (`RLIMIT_CPU`); then, one request at a time: decode the task data, run the
code in the restricted environment (engine/sandbox.py), and send back the value or the data the
script left, or the error with its line. It exits when its parent closes the pipe.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import sys
import time
import traceback
from typing import Any, BinaryIO

from trigger_workflow.engine import wire
from trigger_workflow.engine.sandbox import RestrictedEnvironment, script_functions
from trigger_workflow.engine.sandbox_compile import SCRIPT_FILENAME
from trigger_workflow.engine.sandbox_guards import ScriptRefused
from trigger_workflow.engine.wire import READY, read_frame, write_frame

MAX_MESSAGE_CHARS = 2000


def limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space for good (hard and soft), and write no core files."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def limit_processor_time(seconds: float, current: int | None) -> int:
    """Let the next request use about `seconds` more processor time (the kernel stops us past
    it, should the parent's clock fail); return the limit set. Changed only when it must move:
    requests take microseconds, and the system calls would cost more than they do."""
    used = time.process_time()
    soft = math.ceil(used + seconds) + 1
    if current is not None and soft <= current <= soft + 1:
        return current
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return soft


def handle(environment: RestrictedEnvironment, request: dict[str, Any]) -> tuple[bytes, bool]:
    """Run one request; return the reply and whether this worker should stop after it."""
    environment.time_limit = float(request["seconds"])
    environment.shown_limit = float(request["shown_seconds"])
    max_bytes = int(request["max_bytes"])
    context = request["context"]
    try:
        if request["mode"] == "eval":
            value = environment.evaluate(request["code"], context, request.get("external"))
            return b'{"value":' + _kept(value, "The expression's value", max_bytes) + b"}", False
        environment.execute(request["code"], context, request.get("external"))
        return b'{"context":' + _kept(context, "The data the script left", max_bytes) + b"}", False
    except MemoryError:
        context.clear()
        memory = request["memory_mb"]
        message = f"The script used more than {memory} MB of memory and was stopped."
        return _error("MemoryError", message, _line(), refused=True, retire=True), True
    except ScriptRefused as refused:
        return _error("ScriptRefused", str(refused), refused.lineno or _line(), refused=True), False
    except Exception as error:  # noqa: BLE001 (the process owner reads any error on the incident)
        return _error(type(error).__name__, _words(error), _line(), refused=False), False


def _kept(value: Any, what: str, max_bytes: int) -> bytes:
    """Return the value as JSON, or refuse it as data the case could not keep."""
    try:
        return wire.encode_bounded(value, max_bytes)
    except wire.DataNotKept as refused:
        raise ScriptRefused(f"{what} cannot be kept: {refused}.") from None


def _line() -> int | None:
    """Return the script's line the error being handled was raised on, if it was in the script."""
    frames = traceback.extract_tb(sys.exc_info()[2])
    lines = [f.lineno for f in frames if f.filename == SCRIPT_FILENAME]
    return lines[-1] if lines else None


def _words(error: Exception) -> str:
    """Return an error's message; for (code, words) errors such as OverflowError, the words."""
    if len(error.args) == 2 and isinstance(error.args[0], int) and isinstance(error.args[1], str):
        return error.args[1]
    return str(error)


def _error(
    kind: str, message: str, line: int | None, *, refused: bool, retire: bool = False
) -> bytes:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + " …"
    error = {"type": kind, "message": message, "line": line, "refused": refused}
    return wire.encode({"error": error, "retire": retire})


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer requests until the parent closes the pipe (or a request leaves us unfit to go on)."""
    environment = RestrictedEnvironment(script_functions())
    write_frame(replies, READY)
    cpu_limit = None
    while True:
        frame = read_frame(requests)
        if frame is None:
            return
        request = wire.decode(frame)
        cpu_limit = limit_processor_time(float(request["seconds"]), cpu_limit)
        try:
            reply, retire = handle(environment, request)
        except MemoryError:
            reply = _error("MemoryError", "out of memory", None, refused=True, retire=True)
            retire = True
        write_frame(replies, reply)
        if retire:
            return


def main(argv: list[str]) -> None:
    """Run as a worker: `script_worker REQUESTS_FD REPLIES_FD MEMORY_BYTES`."""
    requests_fd, replies_fd, memory_bytes = (int(a) for a in argv[1:4])
    limit_memory(memory_bytes)
    with (
        os.fdopen(requests_fd, "rb") as requests,
        os.fdopen(replies_fd, "wb") as replies,
        contextlib.suppress(BrokenPipeError),
    ):
        serve(requests, replies)


if __name__ == "__main__":
    main(sys.argv)
