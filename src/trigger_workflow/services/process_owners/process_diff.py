"""Compare two process versions element by element: what was added, removed or changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from trigger_workflow.engine import outline
from trigger_workflow.engine.loader import ProcessFiles

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class AttributeChange:
    """One attribute of an element, before and after."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """An element added, removed or changed between two versions."""

    change: str
    kind: str
    file: str
    id: str
    name: str
    attributes: list[AttributeChange] = field(default_factory=list)

    def __str__(self) -> str:
        named = self.name and self.name != self.id
        label = f"{self.kind} '{self.name}' ({self.id})" if named else f"{self.kind} '{self.id}'"
        text = f"{self.change} {label} in {self.file}"
        details = "; ".join(
            f"{a.name}: {_short(a.before) or '(none)'} → {_short(a.after) or '(none)'}"
            for a in self.attributes
        )
        return f"{text}: {details}" if details else text


@dataclass(frozen=True)
class VersionDiff:
    """Every change from one version to another, grouped in the order of outline.KINDS."""

    before: int | None
    after: int
    changes: list[Change]

    def counts(self) -> dict[str, int]:
        """Return how many elements were added, removed and changed."""
        return {c: sum(1 for x in self.changes if x.change == c) for c in (ADDED, REMOVED, CHANGED)}

    def by_kind(self) -> list[tuple[str, list[Change]]]:
        """Return the changes grouped by kind of element, kinds with no change left out."""
        groups = [(k, [c for c in self.changes if c.kind == k]) for k in outline.KINDS]
        return [(k, changes) for k, changes in groups if changes]


def diff(before: ProcessFiles | None, after: ProcessFiles) -> list[Change]:
    """Return what changed from one version's files to another's (everything added if none)."""
    old = {e.key: e for e in outline.outline(before)} if before is not None else {}
    new = {e.key: e for e in outline.outline(after)}
    changes = []
    for key, element in new.items():
        previous = old.get(key)
        if previous is None:
            changes.append(_change(ADDED, element))
            continue
        names = sorted(set(previous.attributes) | set(element.attributes))
        attributes = [
            AttributeChange(n, previous.attributes.get(n, ""), element.attributes.get(n, ""))
            for n in names
            if previous.attributes.get(n, "") != element.attributes.get(n, "")
        ]
        if previous.name != element.name:
            attributes.insert(0, AttributeChange("name", previous.name, element.name))
        if attributes:
            changes.append(_change(CHANGED, element, attributes))
    changes += [_change(REMOVED, e) for key, e in old.items() if key not in new]
    order = {kind: i for i, kind in enumerate(outline.KINDS)}
    return sorted(changes, key=lambda c: (order[c.kind], c.file, c.id))


def _change(
    change: str, element: outline.Element, attributes: list[AttributeChange] | None = None
) -> Change:
    return Change(change, element.kind, element.file, element.id, element.name, attributes or [])


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
