"""Draw one process of a BPMN file as an accessible SVG, marking what is completed and waiting.

The drawing comes from the file's diagram interchange (BPMNDI): the shapes and edges a modeler
saved. Completed elements get a thick solid outline and a tick; waiting ones a thick dashed outline
and a clock face, so they differ without colour too; each element carries a `<title>` saying its
kind, name and state. A file without diagram interchange for the process gets a plain message.

One process is drawn at a time. A call activity is drawn as a step of its caller (marked like any
other); whoever shows a case draws the called process's own diagram beside it, each at the size
its modeler drew it, rather than expanding one inside the other.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from html import escape

from lxml import etree

from trigger_workflow.engine.loader import XML_ENCODING, decode_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

ACTIVITIES = {
    "task": "Task",
    "userTask": "User task",
    "manualTask": "Manual task",
    "scriptTask": "Script task",
    "serviceTask": "Service task",
    "businessRuleTask": "Business rule task",
    "sendTask": "Send task",
    "receiveTask": "Receive task",
    "callActivity": "Call activity",
    "subProcess": "Sub-process",
    "transaction": "Transaction",
    "adHocSubProcess": "Ad-hoc sub-process",
}
EVENTS = {
    "startEvent": "Start event",
    "endEvent": "End event",
    "intermediateCatchEvent": "Intermediate event",
    "intermediateThrowEvent": "Intermediate event",
    "boundaryEvent": "Boundary event",
}
GATEWAYS = {
    "exclusiveGateway": "Exclusive gateway",
    "parallelGateway": "Parallel gateway",
    "inclusiveGateway": "Inclusive gateway",
    "eventBasedGateway": "Event-based gateway",
    "complexGateway": "Complex gateway",
}
CONTAINERS = {"participant": "Pool", "lane": "Lane"}
COMPLETED_COLOUR = "#00703c"  # GOV.UK green
WAITING_COLOUR = "#1d70b8"  # GOV.UK blue
INK = "#0b0c0c"
MARGIN = 20.0


@dataclass(frozen=True)
class Bounds:
    """A shape's box in diagram coordinates."""

    x: float
    y: float
    width: float
    height: float


@dataclass
class _Element:
    id: str
    tag: str
    name: str


@dataclass
class _Drawing:
    parts: list[str] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)

    def extend(self, x: float, y: float) -> None:
        self.xs.append(x)
        self.ys.append(y)


def render_svg(bpmn_xml: bytes, process_id: str, completed: set[str], waiting: set[str]) -> str:
    """Return an SVG of the process's diagram, with completed and waiting elements marked."""
    root = _parse(bpmn_xml)
    if root is None:
        return _message(process_id, "The diagram file cannot be read.")
    elements = _elements(root)
    process = _process_element(root, process_id)
    if process is None:
        return _message(process_id, f"There is no process '{process_id}' in this file.")
    plane = _plane_for(root, process, process_id)
    if plane is None:
        return _message(process_id, "This diagram has no drawing (no BPMN diagram interchange).")
    drawing = _Drawing()
    for shape in plane.iter(f"{{{BPMNDI}}}BPMNShape"):
        _draw_shape(drawing, shape, elements, completed, waiting)
    for edge in plane.iter(f"{{{BPMNDI}}}BPMNEdge"):
        _draw_edge(drawing, edge, elements, completed)
    if not drawing.xs:
        return _message(process_id, "This diagram has no drawing (no BPMN diagram interchange).")
    uid = _uid(process_id, completed, waiting)
    return _svg(drawing, _process_title(process, process_id), completed, waiting, elements, uid)


def _parse(bpmn_xml: bytes) -> etree._Element | None:
    """Parse the file; one that lies about its encoding is read as the loader reads it."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        return etree.fromstring(bpmn_xml, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        pass
    text = decode_xml(bpmn_xml)
    data = XML_ENCODING.sub(b'<?xml version="1.0" encoding="UTF-8"', text.encode(), count=1)
    try:
        return etree.fromstring(data, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _elements(root: etree._Element) -> dict[str, _Element]:
    found: dict[str, _Element] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN}}}"):
            continue
        ident = node.get("id")
        if ident:
            tag = etree.QName(node).localname
            found[ident] = _Element(ident, tag, _name_of(node))
    return found


def _name_of(node: etree._Element) -> str:
    name = node.get("name")
    if name is None and etree.QName(node).localname == "textAnnotation":
        text = node.find(f"{{{BPMN}}}text")
        name = text.text if text is not None else None
    return " ".join((name or "").split())


def _process_element(root: etree._Element, process_id: str) -> etree._Element | None:
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("id") == process_id:
            return process
    return None


def _process_title(process: etree._Element, process_id: str) -> str:
    return _name_of(process) or process_id


def _plane_for(
    root: etree._Element, process: etree._Element, process_id: str
) -> etree._Element | None:
    """Find the drawing of the process: its own plane, its pool's collaboration, or any holding it."""
    planes = list(root.iter(f"{{{BPMNDI}}}BPMNPlane"))
    for plane in planes:
        if plane.get("bpmnElement") == process_id:
            return plane
    collaborations = {
        c.get("id")
        for c in root.iter(f"{{{BPMN}}}collaboration")
        if any(p.get("processRef") == process_id for p in c.iter(f"{{{BPMN}}}participant"))
    }
    for plane in planes:
        if plane.get("bpmnElement") in collaborations:
            return plane
    own = {node.get("id") for node in process.iter() if isinstance(node.tag, str)}
    for plane in planes:
        if any(s.get("bpmnElement") in own for s in plane.iter(f"{{{BPMNDI}}}BPMNShape")):
            return plane
    return None


def _bounds(node: etree._Element | None) -> Bounds | None:
    if node is None:
        return None
    box = node.find(f"{{{DC}}}Bounds")
    if box is None:
        return None
    try:
        values = [float(box.get(k, "")) for k in ("x", "y", "width", "height")]
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in values):
        return None
    return Bounds(*values)


def _state(ident: str, completed: set[str], waiting: set[str]) -> str | None:
    if ident in waiting:
        return "waiting"
    if ident in completed:
        return "completed"
    return None


def _draw_shape(
    drawing: _Drawing,
    shape: etree._Element,
    elements: dict[str, _Element],
    completed: set[str],
    waiting: set[str],
) -> None:
    bounds = _bounds(shape)
    element = elements.get(shape.get("bpmnElement") or "")
    if bounds is None or element is None:
        return
    drawing.extend(bounds.x, bounds.y)
    drawing.extend(bounds.x + bounds.width, bounds.y + bounds.height)
    state = _state(element.id, completed, waiting)
    if state:
        drawing.marked.append(element.id)
    kind = _kind(element.tag)
    title = f"{kind}: {element.name or element.id}" + (f" ({state})" if state else "")
    label_box = _bounds(shape.find(f"{{{BPMNDI}}}BPMNLabel"))
    body = _body(element, bounds, state, shape.get("isHorizontal"), label_box, drawing)
    css = "bpmn-element" + (f" bpmn-{state}" if state else "")
    drawing.parts.append(
        f'<g class="{css}" data-element-id="{escape(element.id)}" data-kind="{element.tag}">'
        f"<title>{escape(title)}</title>{body}</g>"
    )


def _kind(tag: str) -> str:
    for table in (ACTIVITIES, EVENTS, GATEWAYS, CONTAINERS):
        if tag in table:
            return table[tag]
    return tag[:1].upper() + tag[1:]


def _stroke(state: str | None, plain_width: float = 1.5) -> str:
    if state == "completed":
        return f'stroke="{COMPLETED_COLOUR}" stroke-width="4"'
    if state == "waiting":
        return f'stroke="{WAITING_COLOUR}" stroke-width="4" stroke-dasharray="8 4"'
    return f'stroke="{INK}" stroke-width="{plain_width:g}"'


def _body(
    element: _Element,
    b: Bounds,
    state: str | None,
    horizontal: str | None,
    label_box: Bounds | None,
    drawing: _Drawing,
) -> str:
    stroke = _stroke(state)
    tag = element.tag
    cx, cy = b.x + b.width / 2, b.y + b.height / 2
    if tag in ACTIVITIES:
        # A call activity has the thick border BPMN gives it; marks still differ by dash and badge.
        if tag == "callActivity":
            stroke = _stroke(state, 3.5)
        shape = (
            f'<rect x="{b.x:g}" y="{b.y:g}" width="{b.width:g}" height="{b.height:g}" rx="10" '
            f'fill="#ffffff" {stroke}/>'
        )
        return shape + _label(element.name, cx, cy, b.width - 8) + _marker(state, b)
    if tag in EVENTS:
        r = min(b.width, b.height) / 2
        ring = ""
        if tag == "endEvent":
            stroke = _stroke(state, 4)
        elif tag.startswith("intermediate") or tag == "boundaryEvent":
            ring = f'<circle cx="{cx:g}" cy="{cy:g}" r="{max(r - 3, 1):g}" fill="none" stroke="{INK}"/>'
        shape = f'<circle cx="{cx:g}" cy="{cy:g}" r="{r:g}" fill="#ffffff" {stroke}/>' + ring
        return shape + _outside_label(element.name, b, label_box, drawing) + _marker(state, b)
    if tag in GATEWAYS:
        points = f"{cx:g},{b.y:g} {b.x + b.width:g},{cy:g} {cx:g},{b.y + b.height:g} {b.x:g},{cy:g}"
        shape = f'<polygon points="{points}" fill="#ffffff" {stroke}/>' + _gateway_mark(tag, b)
        return shape + _outside_label(element.name, b, label_box, drawing) + _marker(state, b)
    if tag in CONTAINERS:
        return _container(element, b, stroke, horizontal)
    if tag in ("dataObjectReference", "dataStoreReference", "dataObject", "dataStore"):
        fold = min(12.0, b.width / 3)
        points = (
            f"{b.x:g},{b.y:g} {b.x + b.width - fold:g},{b.y:g} {b.x + b.width:g},{b.y + fold:g} "
            f"{b.x + b.width:g},{b.y + b.height:g} {b.x:g},{b.y + b.height:g}"
        )
        shape = f'<polygon points="{points}" fill="#ffffff" {stroke}/>'
        return shape + _outside_label(element.name, b, label_box, drawing)
    if tag == "textAnnotation":
        path = f"M{b.x + 10:g},{b.y:g} L{b.x:g},{b.y:g} L{b.x:g},{b.y + b.height:g} L{b.x + 10:g},{b.y + b.height:g}"
        return f'<path d="{path}" fill="none" stroke="{INK}"/>' + _label(
            element.name, cx, cy, b.width - 8
        )
    if tag == "group":
        return (
            f'<rect x="{b.x:g}" y="{b.y:g}" width="{b.width:g}" height="{b.height:g}" rx="10" '
            f'fill="none" stroke="{INK}" stroke-dasharray="10 4 2 4"/>'
        )
    shape = (
        f'<rect x="{b.x:g}" y="{b.y:g}" width="{b.width:g}" height="{b.height:g}" '
        f'fill="#ffffff" {stroke}/>'
    )
    return shape + _label(element.name, cx, cy, b.width - 8)


def _container(element: _Element, b: Bounds, stroke: str, horizontal: str | None) -> str:
    rect = (
        f'<rect x="{b.x:g}" y="{b.y:g}" width="{b.width:g}" height="{b.height:g}" '
        f'fill="none" {stroke}/>'
    )
    if not element.name:
        return rect
    if horizontal == "false":
        line = f'<line x1="{b.x:g}" y1="{b.y + 30:g}" x2="{b.x + b.width:g}" y2="{b.y + 30:g}" stroke="{INK}"/>'
        return rect + line + _label(element.name, b.x + b.width / 2, b.y + 15, b.width - 8)
    line = f'<line x1="{b.x + 30:g}" y1="{b.y:g}" x2="{b.x + 30:g}" y2="{b.y + b.height:g}" stroke="{INK}"/>'
    cx, cy = b.x + 15, b.y + b.height / 2
    label = _label(element.name, 0, 0, b.height - 8)
    return rect + line + f'<g transform="translate({cx:g},{cy:g}) rotate(-90)">{label}</g>'


def _gateway_mark(tag: str, b: Bounds) -> str:
    cx, cy = b.x + b.width / 2, b.y + b.height / 2
    d = min(b.width, b.height) / 5
    if tag == "parallelGateway":
        path = f"M{cx - d:g},{cy:g} H{cx + d:g} M{cx:g},{cy - d:g} V{cy + d:g}"
    elif tag == "exclusiveGateway":
        path = f"M{cx - d:g},{cy - d:g} L{cx + d:g},{cy + d:g} M{cx + d:g},{cy - d:g} L{cx - d:g},{cy + d:g}"
    elif tag == "inclusiveGateway":
        return f'<circle cx="{cx:g}" cy="{cy:g}" r="{d:g}" fill="none" stroke="{INK}" stroke-width="2"/>'
    else:
        return ""
    return f'<path d="{path}" stroke="{INK}" stroke-width="3"/>'


def _marker(state: str | None, b: Bounds) -> str:
    """Draw a tick (completed) or a clock face (waiting) on the shape's top-right corner."""
    if state is None:
        return ""
    x, y = b.x + b.width, b.y
    if state == "completed":
        badge = f'<circle cx="{x:g}" cy="{y:g}" r="9" fill="{COMPLETED_COLOUR}"/>'
        tick = f'<path d="M{x - 5:g},{y:g} L{x - 1:g},{y + 4:g} L{x + 5:g},{y - 4:g}" fill="none" stroke="#ffffff" stroke-width="2.5"/>'
        return f'<g class="bpmn-marker" aria-hidden="true">{badge}{tick}</g>'
    face = f'<circle cx="{x:g}" cy="{y:g}" r="9" fill="#ffffff" stroke="{WAITING_COLOUR}" stroke-width="2.5"/>'
    hands = f'<path d="M{x:g},{y - 6:g} V{y:g} H{x + 5:g}" fill="none" stroke="{WAITING_COLOUR}" stroke-width="2"/>'
    return f'<g class="bpmn-marker" aria-hidden="true">{face}{hands}</g>'


def _wrap(text: str, width: float, size: float = 12.0) -> list[str]:
    per_line = max(4, int(width / (size * 0.55)))
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= per_line or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines[:6]


def _label(text: str, cx: float, cy: float, width: float) -> str:
    if not text:
        return ""
    lines = _wrap(text, width)
    top = cy - (len(lines) - 1) * 7
    spans = "".join(
        f'<tspan x="{cx:g}" y="{top + 14 * i:g}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text text-anchor="middle" dominant-baseline="middle" font-size="12" '
        f'font-family="Arial, sans-serif" fill="{INK}">{spans}</text>'
    )


def _outside_label(text: str, b: Bounds, box: Bounds | None, drawing: _Drawing) -> str:
    if not text:
        return ""
    if box is not None and box.width > 0:
        cx, cy, width = box.x + box.width / 2, box.y + box.height / 2, max(box.width, 60)
    else:
        cx, cy, width = b.x + b.width / 2, b.y + b.height + 14, max(b.width * 2.5, 80)
    lines = _wrap(text, width)
    drawing.extend(cx - width / 2, cy + 14 * len(lines))
    drawing.extend(cx + width / 2, cy - 10)
    return _label(text, cx, cy, width)


def _draw_edge(
    drawing: _Drawing, edge: etree._Element, elements: dict[str, _Element], completed: set[str]
) -> None:
    points: list[tuple[float, float]] = []
    for point in edge.findall(f"{{{DI}}}waypoint"):
        try:
            x, y = float(point.get("x", "")), float(point.get("y", ""))
        except ValueError:
            continue
        if math.isfinite(x) and math.isfinite(y):
            points.append((x, y))
    if len(points) < 2:
        return
    for x, y in points:
        drawing.extend(x, y)
    element = elements.get(edge.get("bpmnElement") or "")
    tag = element.tag if element else "sequenceFlow"
    dash = {
        "messageFlow": ' stroke-dasharray="6 4"',
        "association": ' stroke-dasharray="2 3"',
        "dataInputAssociation": ' stroke-dasharray="2 3"',
        "dataOutputAssociation": ' stroke-dasharray="2 3"',
    }.get(tag, "")
    arrow = "" if tag == "association" else ' marker-end="url(#bpmn-arrow)"'
    taken = element is not None and element.id in completed
    colour = COMPLETED_COLOUR if taken else INK
    width = "3" if taken else "1.5"
    line = " ".join(f"{x:g},{y:g}" for x, y in points)
    label = ""
    if element and element.name:
        box = _bounds(edge.find(f"{{{BPMNDI}}}BPMNLabel"))
        middle = points[len(points) // 2 - 1]
        after = points[len(points) // 2]
        cx, cy = (
            (box.x + box.width / 2, box.y + box.height / 2)
            if box
            else ((middle[0] + after[0]) / 2, (middle[1] + after[1]) / 2 - 8)
        )
        drawing.extend(cx, cy)
        label = _label(element.name, cx, cy, 120)
    title = f"{_kind(tag)}: {element.name if element and element.name else ''}".rstrip(": ")
    drawing.parts.append(
        f'<g class="bpmn-flow{" bpmn-taken" if taken else ""}" data-kind="{tag}">'
        f"<title>{escape(title)}</title>"
        f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}{arrow}/>'
        f"{label}</g>"
    )


def _svg(
    drawing: _Drawing,
    title: str,
    completed: set[str],
    waiting: set[str],
    elements: dict[str, _Element],
    uid: str,
) -> str:
    x0, y0 = min(drawing.xs) - MARGIN, min(drawing.ys) - MARGIN
    width, height = max(drawing.xs) - x0 + MARGIN, max(drawing.ys) - y0 + MARGIN
    done = _names(completed, elements, drawing.marked)
    open_ = _names(waiting, elements, drawing.marked)
    desc = (
        f"Completed: {done or 'nothing yet'}. Waiting: {open_ or 'nothing'}. "
        "Completed steps have a thick solid outline and a tick; waiting steps a thick dashed "
        "outline and a clock."
    )
    # Containers first so that they sit beneath the shapes they hold.
    parts = sorted(drawing.parts, key=lambda p: 0 if _is_container(p) else 1)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn-diagram" role="img" '
        f'viewBox="{x0:g} {y0:g} {width:g} {height:g}" width="{width:g}" height="{height:g}" '
        f'aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">Diagram: {escape(title)}</title>'
        f'<desc id="{uid}-desc">{escape(desc)}</desc>'
        f'<defs><marker id="{uid}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker></defs>'
        + "".join(parts).replace("url(#bpmn-arrow)", f"url(#{uid}-arrow)")
        + "</svg>"
    )


def _is_container(part: str) -> bool:
    return 'data-kind="participant"' in part or 'data-kind="lane"' in part


def _names(ids: set[str], elements: dict[str, _Element], drawn: list[str]) -> str:
    shown = [i for i in drawn if i in ids]
    return ", ".join(elements[i].name or i for i in dict.fromkeys(shown))


def _uid(process_id: str, completed: set[str], waiting: set[str]) -> str:
    """Return an id prefix unique to this drawing, so several diagrams can share one page."""
    key = "\0".join([process_id, *sorted(completed), "|", *sorted(waiting)])
    return "bpmn-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def _message(process_id: str, message: str) -> str:
    text = escape(message)
    uid = _uid(process_id, set(), {message})
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="bpmn-diagram bpmn-no-diagram" role="img" '
        f'viewBox="0 0 600 60" width="600" height="60" aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">Diagram: {escape(process_id)}</title>'
        f'<desc id="{uid}-desc">{text}</desc>'
        f'<text x="10" y="35" font-size="16" font-family="Arial, sans-serif" fill="{INK}">{text}</text>'
        "</svg>"
    )
