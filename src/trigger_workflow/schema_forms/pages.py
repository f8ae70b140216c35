"""One form asked over several question pages, as the UI schema's ``ui:pages`` lists them.

Each page names the data paths it asks (``"basis"``, ``"applicant.name"``)::

    "ui:pages": [{"id": "about-you", "title": "About you", "fields": ["basis", "applicant.name"]}]

``page_schema`` is the form's schema cut down to a page's questions (a whole property keeps its
own conditions, so a reveal inside it still works). A page whose questions are all conditional
and not asked, given the answers so far, is skipped (``page_asked``). ``page_of`` says which page
asks the question an error is about, so a refusal sends the person to that page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trigger_workflow.schema_forms.conditions import drop_inactive
from trigger_workflow.schema_forms.schema import Path, Schema, properties


@dataclass(frozen=True)
class Page:
    """One question page: its id (used in its URL), heading, and the data paths it asks."""

    id: str
    title: str
    paths: tuple[Path, ...]
    description: str | None = None

    def asks(self, path: Path) -> bool:
        """Return whether the question at ``path`` (or one inside it) is on this page."""
        return any(tuple(path[: len(mine)]) == mine for mine in self.paths)


def read_pages(ui_schema: Mapping[str, Any] | None) -> list[Page]:
    """Return the pages the UI schema lists under ``ui:pages`` (none if it lists none)."""
    pages = []
    for entry in (ui_schema or {}).get("ui:pages") or []:
        paths = tuple(tuple(str(field).split(".")) for field in entry.get("fields") or [])
        pages.append(
            Page(str(entry["id"]), str(entry["title"]), paths, entry.get("description") or None)
        )
    return pages


def page_schema(schema: Schema, page: Page) -> dict[str, Any]:
    """Return the schema asking only this page's questions."""
    return _cut(schema, [path for path in page.paths if path])


def _cut(schema: Schema, paths: Sequence[Path]) -> dict[str, Any]:
    props = properties(schema)
    wanted: dict[str, list[Path]] = {}
    for path in paths:
        wanted.setdefault(str(path[0]), []).append(path[1:])
    cut: dict[str, Any] = {}
    for key, rests in wanted.items():
        if key in props:
            cut[key] = dict(props[key]) if () in rests else _cut(props[key], rests)
    return {
        "type": "object",
        "properties": cut,
        "required": [key for key in schema.get("required") or [] if key in cut],
    }


def page_asked(schema: Schema, page: Page, data: Mapping[str, Any]) -> bool:
    """Return whether any of the page's questions is asked, given all the answers so far."""
    return any(_asked(schema, data, path) for path in page.paths)


def _asked(schema: Schema, data: Any, path: Path) -> bool:
    """Return whether the question at ``path`` is asked: no condition on its way is unmet."""
    for key in path:
        values = data if isinstance(data, Mapping) else {}
        probe = {**values, str(key): values.get(str(key), {})}
        if str(key) not in drop_inactive(_level(schema), probe):
            return False
        schema, data = properties(schema).get(str(key), {}), values.get(str(key))
    return True


def _level(schema: Schema) -> Schema:
    """Return the object schema without its properties' own contents (to test one level)."""
    return {k: v for k, v in schema.items() if k != "properties"} | {
        "properties": dict.fromkeys(properties(schema), {})
    }


def page_of(pages: Sequence[Page], path: Path) -> Page | None:
    """Return the first page that asks the question at ``path``."""
    return next((page for page in pages if page.asks(path)), None)
