"""Compile every Python expression and script in the diagrams, which the BPMN parser never checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from trigger_workflow.engine import loader, sandbox
from trigger_workflow.errors import Problems

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
TIMERS = ("timeDate", "timeDuration", "timeCycle")
RUNS_HERE = "boolean(//b:process[@isExecutable='true' or @isExecutable='1']) or boolean(//namespace::*[. = $s])"
# What each kind of code is called, how it is compiled, and how many levels up its owner is.
KINDS = {
    "condition": ("on", "eval", 1),
    "script": ("of", "exec", 1),
    "pre-script": ("of", "exec", 2),
    "post-script": ("of", "exec", 2),
    "timer": ("on", "eval", 2),
}


def lint_expressions(files: loader.ProcessFiles, problems: Problems) -> None:
    """Record a problem for every empty, uncompilable or sandbox-refused expression or script."""
    for name, text in files.named(loader.BPMN_SUFFIXES).items():
        root = loader.parse_xml(name, text, problems)
        if root is None or not root.xpath(RUNS_HERE, namespaces={"b": BPMN}, s=SPIFF):
            continue
        for kind, element in _code(root):
            _lint(name, kind, element, problems)
    for name, text in files.named(loader.DMN_SUFFIXES).items():
        root = loader.parse_xml(name, text, problems)
        if root is not None:
            lint_decisions(name, root, problems)


def lint_decisions(name: str, root: etree._Element, problems: Problems) -> None:
    """Compile every cell of every decision table as the engine will evaluate it."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local not in DMN_CELLS:
            continue
        text_element = next((c for c in element if _local(c) == "text"), None)
        text = "" if text_element is None or text_element.text is None else text_element.text
        owner = element.get("id") or (
            element.getparent().get("id") if element.getparent() is not None else None
        )
        line = (text_element if text_element is not None else element).sourceline
        what = f"The {DMN_CELLS[local]} '{owner}'" if owner else f"A {DMN_CELLS[local]}"
        for message in _dmn_cell_problems(local, text):
            problems.add(name, f"{what} {message}", line=line, element_id=owner)


DMN_CELLS = {
    "inputExpression": "input expression",
    "inputEntry": "input cell",
    "outputEntry": "output cell",
}


def _dmn_cell_problems(kind: str, text: str) -> list[str]:
    """Return what is wrong with one cell, compiled the way SpiffWorkflow's DMN engine runs it."""
    stripped = text.strip()
    if kind == "inputEntry" and stripped in ("", "-"):
        return []  # "any value"
    if not stripped:
        return ["is empty."]
    candidates = [stripped]
    if kind == "inputEntry":
        stripped = re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", stripped)
        # As the engine: an entry that parses alone is compared with ==, else appended to the input.
        candidates = [stripped, f"dmninputexpr {stripped}"]
    error: SyntaxError | None = None
    for candidate in candidates:
        try:
            compile(candidate, "<decision>", "eval")
        except SyntaxError as failed:
            error = error or failed
            continue
        try:
            sandbox.compile_script(candidate, "eval")
        except sandbox.ScriptRefused as refused:
            return [f"is refused by the script sandbox: {refused}"]
        return []
    assert error is not None
    return [_why(text, error)]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _code(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """Yield each element that holds Python SpiffWorkflow runs, with its kind."""
    for task in root.iter(f"{{{BPMN}}}scriptTask"):
        script = task.find(f"{{{BPMN}}}script")
        yield "script", task if script is None else script
    for condition in root.iter(f"{{{BPMN}}}conditionExpression"):
        parent = condition.getparent()
        if parent is not None and etree.QName(parent).localname == "sequenceFlow":
            yield "condition", condition
    for tag, kind in (("preScript", "pre-script"), ("postScript", "post-script")):
        for element in root.iter(f"{{{SPIFF}}}{tag}"):
            yield kind, element
    for definition in root.iter(f"{{{BPMN}}}timerEventDefinition"):
        for timer in definition:
            if isinstance(timer.tag, str) and etree.QName(timer).localname in TIMERS:
                yield "timer", timer


def code_elements(root: etree._Element) -> Iterator[tuple[str, etree._Element, str, str | None]]:
    """Yield each piece of code with its kind, a description ("The script of …") and owner id."""
    for kind, element in _code(root):
        yield (kind, element, *describe(kind, element))


def describe(kind: str, element: etree._Element) -> tuple[str, str | None]:
    """Return how to name a piece of code to a process owner, and the id of its element."""
    preposition, _, levels = KINDS[kind]
    # A script task without a script element is its own owner.
    owner = element if etree.QName(element).localname == "scriptTask" else _up(element, levels)
    while owner is not None and not owner.get("id"):
        owner = owner.getparent()
    owner_id = None if owner is None else owner.get("id")
    what = f"The {kind} {preposition} {_noun(owner)} '{owner_id}'" if owner_id else f"A {kind}"
    return what, owner_id


def _lint(name: str, kind: str, element: etree._Element, problems: Problems) -> None:
    """Compile one expression or script as SpiffWorkflow will run it; record what is wrong."""
    _, mode, _ = KINDS[kind]
    what, owner_id = describe(kind, element)
    text = element.text or ""
    if not text.strip():
        problems.add(name, f"{what} is empty.", line=element.sourceline, element_id=owner_id)
        return
    try:
        # Exactly the text SpiffWorkflow will eval or exec: it does not strip or dedent it.
        compile(text, f"{name}:{owner_id}", mode)
        sandbox.compile_script(text, mode)
    except sandbox.ScriptRefused as refused:
        line = (element.sourceline or 0) + (refused.lineno or 1) - 1 or None
        message = f"{what} is refused by the script sandbox: {refused}"
        problems.add(name, message, line=line, element_id=owner_id)
    except SyntaxError as error:
        line = (element.sourceline or 0) + (error.lineno or 1) - 1 or None
        problems.add(name, f"{what} {_why(text, error)}", line=line, element_id=owner_id)
    except (ValueError, RecursionError) as error:
        message = f"{what} is not valid Python: {error}."
        problems.add(name, message, line=element.sourceline, element_id=owner_id)


def _up(element: etree._Element, levels: int) -> etree._Element | None:
    """Return the ancestor so many levels up: the task or event the code belongs to."""
    owner: etree._Element | None = element
    for _ in range(levels):
        owner = None if owner is None else owner.getparent()
    return owner


def _noun(owner: etree._Element) -> str:
    """Name an element's type the way a process owner says it: 'flow', 'boundary event'."""
    local = etree.QName(owner).localname
    return "flow" if local == "sequenceFlow" else re.sub(r"(?<!^)(?=[A-Z])", " ", local).lower()


def _why(text: str, error: SyntaxError) -> str:
    """Explain a syntax error, naming FEEL and JUEL, which other engines run and this one cannot."""
    start = text.lstrip()
    if start.startswith("="):
        return "is a FEEL expression, not a Python expression SpiffWorkflow can run."
    if start.startswith(("${", "#{")):
        return "is a JUEL expression, not a Python expression SpiffWorkflow can run."
    at = f" at column {error.offset}" if error.offset else ""
    return f"is not valid Python: {error.msg}{at}."
