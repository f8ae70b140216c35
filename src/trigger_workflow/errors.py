"""Domain errors: each carries what a person needs to see what went wrong and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class TriggerWorkflowError(Exception):
    """Base of every error this application raises on purpose."""

    status = 400
    title = "Something is wrong with the request"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


@dataclass(frozen=True)
class DiagramProblem:
    """One problem in a deployed file: which file, line and element, in plain words."""

    file: str
    message: str
    line: int | None = None
    element_id: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f", line {self.line}"
        if self.element_id:
            where += f", element '{self.element_id}'"
        return f"{where}: {self.message}"


class DiagramError(TriggerWorkflowError):
    """A diagram, decision table or form cannot be loaded."""

    status = 422
    title = "The process files have problems"

    def __init__(self, problems: list[DiagramProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems), problems=problems)
        self.problems = problems


@dataclass(frozen=True)
class FieldProblem:
    """A submitted value that is missing or wrong, with the path of its field."""

    path: tuple[str | int, ...]
    message: str


class FormInvalid(TriggerWorkflowError):
    """Submitted task data does not satisfy the task's form."""

    status = 422
    title = "There is a problem with the answers"

    def __init__(self, problems: list[FieldProblem], raw: Any = None) -> None:
        super().__init__("; ".join(p.message for p in problems), problems=problems)
        self.problems = problems
        self.raw = raw


class NotFound(TriggerWorkflowError):
    """A case, task or officer that does not exist."""

    status = 404
    title = "Page not found"


class TaskNotOpen(TriggerWorkflowError):
    """The task exists but is no longer waiting: someone has completed it."""

    status = 409
    title = "This task has already been completed"


class ConcurrentChange(TriggerWorkflowError):
    """Someone else changed the case at the same moment; nothing was saved."""

    status = 409
    title = "Someone else changed this case at the same time"


class NotPermitted(TriggerWorkflowError):
    """The acting officer may not do this."""

    status = 403
    title = "You cannot do this"


class NotSignedIn(TriggerWorkflowError):
    """Nobody is signed in, and this needs an officer."""

    status = 401
    title = "Sign in first"


class EngineError(TriggerWorkflowError):
    """A script, condition or decision in a diagram failed while the case ran."""

    status = 500
    title = "The process could not continue"


@dataclass
class Problems:
    """Collect problems while checking something, then raise them together."""

    items: list[DiagramProblem] = field(default_factory=list)

    def add(
        self, file: str, message: str, line: int | None = None, element_id: str | None = None
    ) -> None:
        """Record one problem."""
        self.items.append(DiagramProblem(file, message, line, element_id))


class CaseHeld(TriggerWorkflowError):
    """The case is stopped by an incident: nothing moves until a process owner retries it."""

    status = 409
    title = "This case is held for a process owner"
