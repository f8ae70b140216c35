"""Outline a process's files as the elements a process owner cares about, to compare versions."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from trigger_workflow.engine.loader import BPMN_SUFFIXES, DMN_SUFFIXES, ProcessFiles, parse_xml
from trigger_workflow.errors import Problems

USER_TASK, FLOW, LANE, FORM, TIMESCALE, DMN_RULE, TASK = (
    "user task",
    "flow",
    "lane",
    "form",
    "timescale",
    "decision rule",
    "task",
)
KINDS = (USER_TASK, TASK, FLOW, LANE, FORM, TIMESCALE, DMN_RULE)
# Other BPMN activities and events: compared too, so a new script or timer shows up.
OTHER_NODES = {
    "scriptTask",
    "serviceTask",
    "businessRuleTask",
    "manualTask",
    "callActivity",
    "subProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}


@dataclass(frozen=True)
class Element:
    """One element of a version: what kind, where, its id and name, and what defines it."""

    kind: str
    file: str
    id: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """Return what identifies the element across versions: kind, file and id."""
        return (self.kind, self.file, self.id)


def outline(files: ProcessFiles) -> list[Element]:
    """Return the user tasks, other nodes, flows, lanes, forms, timescales and DMN rules."""
    elements: list[Element] = []
    problems = Problems()  # a deployed version is well formed; anything unreadable is skipped
    for name, text in files.named(BPMN_SUFFIXES).items():
        root = parse_xml(name, text, problems)
        if root is not None:
            elements += _bpmn_elements(name, root)
    for name, text in files.named(DMN_SUFFIXES).items():
        root = parse_xml(name, text, problems)
        if root is not None:
            elements += _dmn_rules(name, root)
    elements += _lane_roles(files)
    elements += _forms(files)
    elements += _timescales(files)
    return elements


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _text(element: etree._Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _bpmn_elements(file: str, root: etree._Element) -> list[Element]:
    lane_of: dict[str, str] = {}
    found: list[Element] = []
    for lane in root.iter():
        if _local(lane) == "lane":
            name = lane.get("name") or lane.get("id", "")
            refs = [_text(r) for r in lane if _local(r) == "flowNodeRef"]
            for ref in refs:
                lane_of[ref] = name
            found.append(
                Element(LANE, file, lane.get("id", ""), name, {"tasks": ", ".join(sorted(refs))})
            )
    for node in root.iter():
        local = _local(node)
        if local == "userTask":
            found.append(_user_task(file, node, lane_of))
        elif local in OTHER_NODES:
            attributes = {"type": local, "lane": lane_of.get(node.get("id", ""), "")}
            attributes.update(_node_details(node))
            found.append(
                Element(TASK, file, node.get("id", ""), node.get("name") or "", attributes)
            )
        elif local == "sequenceFlow":
            condition = next((c for c in node if _local(c) == "conditionExpression"), None)
            attributes = {
                "from": node.get("sourceRef", ""),
                "to": node.get("targetRef", ""),
                "condition": _text(condition),
            }
            found.append(
                Element(FLOW, file, node.get("id", ""), node.get("name") or "", attributes)
            )
    return found


def _user_task(file: str, node: etree._Element, lane_of: dict[str, str]) -> Element:
    task_id = node.get("id", "")
    attributes = {"lane": lane_of.get(task_id, "")}
    for child in node.iter():
        if _local(child) == "property" and child.get("name") in (
            "formJsonSchemaFilename",
            "formUiSchemaFilename",
        ):
            key = "form" if child.get("name") == "formJsonSchemaFilename" else "ui form"
            attributes[key] = child.get("value", "")
        elif _local(child) == "instructionsForEndUser":
            attributes["instructions"] = _text(child)
        elif _local(child) == "multiInstanceLoopCharacteristics":
            sequential = child.get("isSequential", "false") == "true"
            attributes["for each"] = "in turn" if sequential else "in parallel"
    return Element(USER_TASK, file, task_id, node.get("name") or task_id, attributes)


def _node_details(node: etree._Element) -> dict[str, str]:
    details: dict[str, str] = {}
    for child in node.iter():
        local = _local(child)
        if local == "script":
            details["script"] = _text(child)
        elif local in ("timeDuration", "timeDate", "timeCycle"):
            details["timer"] = _text(child)
        elif local == "calledDecisionId":
            details["decision"] = _text(child)
    if node.get("calledElement"):
        details["calls"] = node.get("calledElement", "")
    return details


def _dmn_rules(file: str, root: etree._Element) -> list[Element]:
    found = []
    for decision in root.iter():
        if _local(decision) != "decision":
            continue
        for rule in decision.iter():
            if _local(rule) != "rule":
                continue
            inputs = [_text(e) for e in rule if _local(e) == "inputEntry"]
            outputs = [_text(e) for e in rule if _local(e) == "outputEntry"]
            attributes = {
                "decision": decision.get("id", ""),
                "when": " | ".join(inputs),
                "then": " | ".join(outputs),
            }
            description = next((e for e in rule if _local(e) == "description"), None)
            found.append(
                Element(DMN_RULE, file, rule.get("id", ""), _text(description), attributes)
            )
    return found


def _forms(files: ProcessFiles) -> list[Element]:
    found = []
    for name, text in sorted(files.files.items()):
        if not name.startswith("forms/"):
            continue
        try:
            schema: Any = json.loads(text)
            canonical = json.dumps(schema, sort_keys=True)
            title = schema.get("title", "") if isinstance(schema, dict) else ""
            questions = sorted(schema.get("properties", {})) if isinstance(schema, dict) else []
        except (json.JSONDecodeError, AttributeError):
            canonical, title, questions = text, "", []
        attributes = {"questions": ", ".join(questions), "content": canonical}
        found.append(Element(FORM, name, name.removeprefix("forms/"), str(title), attributes))
    return found


def _lane_roles(files: ProcessFiles) -> list[Element]:
    table = _toml(files, "lanes.toml")
    lanes = table.get("lanes", {})
    if not isinstance(lanes, dict):
        return []
    return [
        Element(LANE, "lanes.toml", str(lane), str(lane), {"role": str(role)})
        for lane, role in sorted(lanes.items())
    ]


def _toml(files: ProcessFiles, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(files.files.get(name, ""))
    except tomllib.TOMLDecodeError:
        return {}


def _timescales(files: ProcessFiles) -> list[Element]:
    table = _toml(files, "timescales.toml")
    entries = dict(table.get("tasks", {}))
    if "default" in table:
        entries["[default]"] = table["default"]
    found = []
    for task, entry in sorted(entries.items()):
        if isinstance(entry, dict):
            attributes = {
                "days": str(entry.get("days", "")),
                "from": str(entry.get("from", "ready")),
            }
            found.append(Element(TIMESCALE, "timescales.toml", task, task, attributes))
    return found
