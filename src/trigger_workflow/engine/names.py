"""Warn about names a diagram's code reads that nothing in the process ever sets.

What counts as set, anywhere in the process set (data flows both ways through call activities,
so the whole set is one namespace): the fields of every form a user task names, every name a
script assigns (or a loop, comprehension, function or class binds), the collections and item
names of multi-instance tasks, data objects, the outputs of decision tables, the builtins and
helper functions the script sandbox gives, and the names the application supplies beside an
officer's answers (`supplied`: the receipt day, the deadlines, what the law's checks derive). What this cannot know, and why these are warnings,
not errors: the order things happen in (a name set only on another branch, or only later), data a
case is started with outside any form, and values a process owner sets by correcting a case.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from typing import Any

from lxml import etree

from trigger_workflow.engine import lint, loader
from trigger_workflow.errors import Problems

BPMN = lint.BPMN
FORMS_PREFIX = "forms/"
DMN_INPUT = "inputExpression"


def lint_names(
    files: loader.ProcessFiles,
    functions: Iterable[str],
    warnings: Problems,
    supplied: Iterable[str] = (),
) -> None:
    """Record a warning for each name read by code that no form, script, table or engine sets."""
    known = set(functions) | set(supplied) | {"dmninputexpr"}
    uses: list[tuple[str, str, str | None, int | None, set[str]]] = []
    ignored = Problems()  # files that do not parse are reported by the deploy checks
    for name, text in files.named(loader.BPMN_SUFFIXES).items():
        root = loader.parse_xml(name, text, ignored)
        if root is None:
            continue
        known |= _set_by_diagram(files, root)
        for kind, element, what, owner_id in lint.code_elements(root):
            mode = lint.KINDS[kind][1]
            tree = _parse(element.text or "", mode)
            if tree is None:
                continue
            assigned, read = _names(tree)
            known |= assigned
            uses.append((name, what, owner_id, element.sourceline, read))
    for name, text in files.named(loader.DMN_SUFFIXES).items():
        root = loader.parse_xml(name, text, ignored)
        if root is None:
            continue
        for element in root.iter():
            local = _local(element)
            if local == "output" and element.get("name"):
                known.add(str(element.get("name")))
            if local == DMN_INPUT:
                text_element = next((c for c in element if _local(c) == "text"), None)
                tree = _parse("" if text_element is None else text_element.text or "", "eval")
                if tree is not None:
                    what = f"The input expression '{element.get('id')}'"
                    line = element.sourceline if text_element is None else text_element.sourceline
                    uses.append((name, what, element.get("id"), line, _names(tree)[1]))
    for file, what, owner_id, line, read in uses:
        for unknown in sorted(read - known):
            warnings.add(
                file,
                f"{what} reads '{unknown}', which no form, script, decision table or "
                "multi-instance task of this process sets, and which is not a function scripts "
                "can call. Check the spelling; if the case gets it some other way, ignore this.",
                line=line,
                element_id=owner_id,
            )


def _set_by_diagram(files: loader.ProcessFiles, root: etree._Element) -> set[str]:
    names: set[str] = set()
    for element in root.iter():
        local = _local(element)
        if local in ("loopDataInputRef", "loopDataOutputRef") and element.text:
            names.add(element.text.strip())
        elif local in ("inputDataItem", "outputDataItem", "dataObject", "dataObjectReference"):
            names |= {v for v in (element.get("name"), element.get("id")) if v}
        elif local == "property" and element.get("name") == "formJsonSchemaFilename":
            names |= _form_fields(files, element.get("value") or "")
    return names


def _form_fields(files: loader.ProcessFiles, form: str) -> set[str]:
    try:
        schema: Any = json.loads(files.files.get(FORMS_PREFIX + form) or "{}")
    except json.JSONDecodeError:
        return set()
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return set(properties) if isinstance(properties, dict) else set()


def _parse(text: str, mode: str) -> ast.AST | None:
    try:
        return ast.parse(text, mode=mode)
    except (SyntaxError, ValueError, RecursionError):
        return None  # reported by the expression lint


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Return the names code binds and the names it reads."""
    assigned: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else assigned).add(node.id)
        elif isinstance(node, ast.arg):
            assigned.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.ExceptHandler)):
            bound = getattr(node, "name", None)
            if bound:
                assigned.add(bound)
    return assigned, read


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""
