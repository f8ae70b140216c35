"""Parse a process's BPMN and DMN files into executable specs, reporting problems plainly."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from trigger_workflow.errors import DiagramError, DiagramProblem, Problems

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding=["']([A-Za-z0-9._-]+)["']""")
NAMESPACE_PREFIXES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "dmn",
}
DMN_SUFFIXES = (".dmn",)


@dataclass(frozen=True)
class ProcessFiles:
    """The text of every file that makes up one deployable process, by relative path."""

    files: dict[str, str]

    def content_hash(self) -> str:
        """Return a hash that changes whenever any file's name or content changes."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()

    def named(self, suffixes: tuple[str, ...]) -> dict[str, str]:
        """Return the files whose names end with one of the suffixes."""
        return {n: t for n, t in sorted(self.files.items()) if n.endswith(suffixes)}

    def json_file(self, name: str) -> dict[str, Any] | None:
        """Return a JSON file (a form) parsed, or None when there is no such file."""
        text = self.files.get(name)
        return None if text is None else json.loads(text)


def decode_xml(raw: bytes) -> str:
    """Return an XML file's text, honouring a BOM or the encoding its declaration names."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    declared = XML_ENCODING.search(raw[:200])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return raw.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        # A file that lies about its encoding: keep every byte readable rather than fail here;
        # the parser then reports whatever else is wrong with it.
        return raw.decode("latin-1")


def parse_xml(name: str, text: str, problems: Problems) -> etree._Element | None:
    """Parse one XML file, recording a problem (with line) when it is not well formed."""
    # The text is Unicode now, so the encoding its declaration names no longer applies.
    data = XML_ENCODING.sub(b'<?xml version="1.0" encoding="UTF-8"', text.encode("utf-8"), count=1)
    try:
        return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        problems.add(name, f"The file is not well-formed XML: {error.msg}", line=error.lineno)
        return None


def build_parser(files: ProcessFiles) -> SpiffBpmnParser:
    """Load every BPMN and DMN file into a validating parser, or raise DiagramError."""
    problems = Problems()
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in files.named(BPMN_SUFFIXES).items():
        root = parse_xml(name, text, problems)
        if root is not None:
            _add(problems, name, lambda r=root, n=name: parser.add_bpmn_xml(r, filename=n))
    for name, text in files.named(DMN_SUFFIXES).items():
        root = parse_xml(name, text, problems)
        if root is not None:
            _add(problems, name, lambda r=root, n=name: parser.add_dmn_xml(r, filename=n))
    if problems.items:
        raise DiagramError(problems.items)
    return parser


def _add(problems: Problems, name: str, add: Any) -> None:
    try:
        add()
    except ValidationException as error:
        problems.add(
            error.file_name or name,
            _plain(str(error)),
            line=_int(error.line_number),
            element_id=error.id or None,
        )
    except (SpiffWorkflowException, etree.LxmlError) as error:
        problems.add(name, _plain(str(error)))


def _plain(message: str) -> str:
    """Squeeze whitespace and write namespaces as the prefixes people see in their files."""
    for uri, prefix in NAMESPACE_PREFIXES.items():
        message = message.replace("{" + uri + "}", prefix + ":")
    return " ".join(message.split())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def load_specs(files: ProcessFiles, process_id: str) -> tuple[Any, dict[str, Any]]:
    """Return the top spec and every spec it calls, or raise DiagramError."""
    parser = build_parser(files)
    try:
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except ValidationException as error:
        problem = DiagramProblem(
            error.file_name or f"process '{process_id}'",
            _plain(str(error)),
            line=_int(error.line_number),
            element_id=error.id or None,
        )
        raise DiagramError([problem]) from error
