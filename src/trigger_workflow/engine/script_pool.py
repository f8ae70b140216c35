"""A few reused script worker processes per web or timer process, and the limits they run under.

`run` sends one script or expression with its task data to an idle worker (engine/script_worker.py)
and waits for the answer at most the time left: the script's limit, or what is left of the step's
(`step_budget`: a task completion, a start or a timer firing may spend that long in scripts in all).
A worker that overruns is killed (SIGKILL) and replaced the next time one is needed; one that dies
(its memory or processor limit) likewise. Either way the caller gets a `ScriptRefused` saying why,
which the engine turns into an incident on the case; this process goes on.

Workers are started with `subprocess` (a fresh interpreter: never a fork of a threaded web
process), with no environment but the path to this package, and are ended when this process exits.
A process forked after starting workers (a pre-loading server) starts its own.
"""

from __future__ import annotations

import atexit
import builtins
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trigger_workflow.engine import wire
from trigger_workflow.engine.sandbox_guards import ScriptFailed, ScriptRefused
from trigger_workflow.engine.wire import HEADER, READY

WORKER_MODULE = "trigger_workflow.engine.script_worker"
GRACE_SECONDS = 0.5  # past its limit, the script's own clock check has had its chance: kill
START_SECONDS = 60.0  # a new worker must be ready within this (imports, on a busy machine)
STOP_SECONDS = 2.0


@dataclass(frozen=True)
class ScriptLimits:
    """What one script, or one step's scripts together, may use."""

    seconds: float = 5.0  # wall clock, per script and per step (a task completion, a timer)
    memory_mb: int = 256  # the address space of each worker process
    data_kb: int = 1024  # the task data (JSON) a script may leave, or an expression return
    workers: int = 2  # worker processes kept per web or timer process

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.memory_mb < 64 or self.data_kb < 1 or self.workers < 1:
            raise ValueError(
                "Script limits must be positive, with at least 64 MB of memory and one worker."
            )


class WorkerLost(Exception):
    """A worker stopped answering: killed for overrunning, or ended by its own limits."""

    def __init__(self, timed_out: bool, exit_code: int | None) -> None:
        super().__init__("timed out" if timed_out else f"exited with {exit_code}")
        self.timed_out = timed_out
        self.exit_code = exit_code


class Worker:
    """One worker process and the two pipes to it."""

    def __init__(self, memory_mb: int) -> None:
        requests_read, self._requests = os.pipe()
        self._replies, replies_write = os.pipe()
        command = [
            sys.executable,
            "-m",
            WORKER_MODULE,
            str(requests_read),
            str(replies_write),
            str(memory_mb * 1024 * 1024),
        ]
        try:
            self.process = subprocess.Popen(
                command,
                pass_fds=(requests_read, replies_write),
                env=_worker_environment(),
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        finally:
            os.close(requests_read)
            os.close(replies_write)
        if self._receive(START_SECONDS, len(READY)) != READY:
            self.kill()
            raise RuntimeError("A script worker process did not start.")

    def call(self, request: bytes, timeout: float, max_reply: int) -> bytes:
        """Send one request and return the reply, or raise WorkerLost (the worker is then dead)."""
        try:
            _write_all(self._requests, HEADER.pack(len(request)) + request)
            reply = self._receive(timeout, max_reply)
        except OSError:
            reply = None
        if reply is None:
            timed_out = self.process.poll() is None
            self.kill()
            raise WorkerLost(timed_out, self.process.returncode)
        return reply

    def _receive(self, timeout: float, max_bytes: int) -> bytes | None:
        """Read one message within timeout seconds; None if late, too long, or the pipe closed."""
        deadline = time.monotonic() + timeout
        header = self._read(HEADER.size, deadline)
        if header is None:
            return None
        (length,) = HEADER.unpack(header)
        if length > max_bytes:
            return None
        return self._read(length, deadline)

    def _read(self, count: int, deadline: float) -> bytes | None:
        chunks, wanted = [], count
        poller = select.poll()
        poller.register(self._replies, select.POLLIN)
        while wanted:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                return None
            chunk = os.read(self._replies, min(wanted, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        """Close the pipe (the worker exits at its end), or kill the worker if it lingers."""
        self._close()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """End the worker at once and reap it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close()

    def _close(self) -> None:
        for fd in (self._requests, self._replies):
            with suppress(OSError):
                os.close(fd)
        self._requests = self._replies = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _worker_environment() -> dict[str, str]:
    """Return the worker's whole environment: where this package is, and nothing secret."""
    package_root = Path(__file__).resolve().parents[2]
    return {"PYTHONPATH": str(package_root), "PATH": os.defpath, "LC_ALL": "C.UTF-8"}


class Pool:
    """Idle workers to reuse, and how many exist; at most `limits.workers` at once."""

    def __init__(self, memory_mb: int, size: int) -> None:
        self.memory_mb, self.size = memory_mb, size
        self.pid = os.getpid()
        self._idle: list[Worker] = []
        self._count = 0
        self._free = threading.Condition()
        self.started = 0  # workers started over the pool's life (tests and the bench read it)

    def call(self, request: bytes, timeout: float, max_reply: int) -> dict[str, Any]:
        """Run one request on a worker and return its reply; a worker lost on the way, or
        retiring after it (out of memory), is not returned to the pool."""
        worker = self._acquire()
        try:
            reply: dict[str, Any] = wire.decode(worker.call(request, timeout, max_reply))
        except BaseException:
            worker.kill()
            self._forget()
            raise
        if reply.get("retire"):
            worker.stop()
            self._forget()
            return reply
        with self._free:
            self._idle.append(worker)
            self._free.notify()
        return reply

    def _acquire(self) -> Worker:
        with self._free:
            while not self._idle and self._count >= self.size:
                self._free.wait()
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.kill()  # ended since its last call (its processor-time limit)
                self._count -= 1
            self._count += 1
        try:
            worker = Worker(self.memory_mb)
        except BaseException:
            self._forget()
            raise
        self.started += 1
        return worker

    def _forget(self) -> None:
        with self._free:
            self._count -= 1
            self._free.notify()

    def workers(self) -> list[Worker]:
        """Return the idle workers (tests look at their processes)."""
        with self._free:
            return list(self._idle)

    def shutdown(self) -> None:
        """Stop the idle workers (busy ones are stopped when their call ends)."""
        with self._free:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        if self.pid != os.getpid():
            return  # inherited through a fork: the parent's workers are the parent's to stop
        for worker in idle:
            worker.stop()


_limits = ScriptLimits()
_pool: Pool | None = None
_pool_lock = threading.Lock()
_step_deadline: ContextVar[float | None] = ContextVar("step_deadline", default=None)


def configure(limits: ScriptLimits) -> None:
    """Set the limits scripts run under (from the settings); workers restart if memory changes."""
    global _limits
    with _pool_lock:
        old, _limits = _limits, limits
    if old.memory_mb != limits.memory_mb or old.workers != limits.workers:
        shutdown()


def configure_from(settings: Any) -> None:
    """Set the limits from the application's settings (their `script_*` fields)."""
    configure(
        ScriptLimits(
            seconds=settings.script_time_limit_seconds,
            memory_mb=settings.script_memory_limit_mb,
            data_kb=settings.script_data_limit_kb,
            workers=settings.script_workers,
        )
    )


def limits() -> ScriptLimits:
    """Return the limits scripts run under now."""
    return _limits


def pool() -> Pool:
    """Return this process's pool of workers, starting an empty one if needed."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = Pool(_limits.memory_mb, _limits.workers)
        return _pool


def shutdown() -> None:
    """Stop this process's workers (at exit, and in tests)."""
    global _pool
    with _pool_lock:
        current, _pool = _pool, None
    if current is not None:
        current.shutdown()


atexit.register(shutdown)


@contextmanager
def step_budget() -> Iterator[None]:
    """Let the scripts of one engine step (and any step within it) share one time limit."""
    if _step_deadline.get() is not None:
        yield
        return
    token = _step_deadline.set(time.monotonic() + _limits.seconds)
    try:
        yield
    finally:
        _step_deadline.reset(token)


def run(mode: str, code: str, context: dict[str, Any], external: dict[str, Any] | None) -> Any:
    """Evaluate ('eval') or run ('exec') code over the task data in a worker; return its result."""
    current = _limits
    deadline = _step_deadline.get()
    seconds = (
        current.seconds if deadline is None else min(current.seconds, deadline - time.monotonic())
    )
    if seconds <= 0.01:
        raise ScriptRefused(
            f"The scripts of this step ran for more than {current.seconds:g} seconds in all "
            "and were stopped."
        )
    try:
        request = wire.encode(
            {
                "mode": mode,
                "code": code,
                "context": context,
                "external": external or {},
                "seconds": seconds,
                "shown_seconds": current.seconds,
                "max_bytes": current.data_kb * 1024,
                "memory_mb": current.memory_mb,
            }
        )
    except wire.DataNotKept as refused:
        raise ScriptRefused(f"The task data cannot be given to the script: {refused}.") from None
    try:
        # The reply holds the data (bounded by the worker) and at most an error's words.
        max_reply = current.data_kb * 1024 + 64 * 1024
        reply = pool().call(request, seconds + GRACE_SECONDS, max_reply)
    except WorkerLost as lost:
        raise ScriptRefused(_lost_message(lost, current)) from None
    if "error" in reply:
        raise _raised(reply["error"])
    return reply["value"] if mode == "eval" else reply["context"]


def _lost_message(lost: WorkerLost, current: ScriptLimits) -> str:
    if lost.timed_out or lost.exit_code == -signal.SIGXCPU:
        return f"The script ran for more than {current.seconds:g} seconds and was stopped."
    return (
        f"The script was stopped: it used more than {current.memory_mb} MB of memory "
        "or ended its worker process."
    )


def _raised(error: dict[str, Any]) -> Exception:
    """Return the exception a worker reported, as the engine would have seen it in-process."""
    kind, message, line = str(error["type"]), str(error["message"]), error.get("line")
    if error.get("refused"):
        return ScriptRefused(message, line)
    cls = getattr(builtins, kind, None)
    raised: Exception
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            raised = cls(message)
        except Exception:  # noqa: BLE001 (a class needing other arguments)
            raised = ScriptFailed(f"{kind}: {message}", line)
    else:
        raised = ScriptFailed(f"{kind}: {message}", line)
    raised.script_line = line  # type: ignore[attr-defined]
    return raised
