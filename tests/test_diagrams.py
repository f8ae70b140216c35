"""The diagram renderer: every process of every loadable file draws, marks are visible without colour."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from trigger_workflow.diagrams import render_svg
from trigger_workflow.engine.loader import ProcessFiles, build_parser, decode_xml
from trigger_workflow.errors import DiagramError

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "bpmn-corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.name.endswith((".bpmn", ".bpmn20.xml")))
SVG = "{http://www.w3.org/2000/svg}"


def _accepted(path: Path) -> list[str]:
    """Return the process ids of a file the loader accepts, or [] when it refuses it."""
    try:
        parser = build_parser(ProcessFiles({path.name: decode_xml(path.read_bytes())}))
    except DiagramError:
        return []
    return list(parser.get_process_ids())


def _parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode())


def _group(root: etree._Element, element_id: str) -> etree._Element:
    found = root.find(f".//{SVG}g[@data-element-id='{element_id}']")
    assert found is not None, f"{element_id} is not drawn"
    return found


def test_corpus_has_files_the_loader_accepts() -> None:
    """The corpus is there and most of its files load, so the test below covers real diagrams."""
    assert sum(1 for p in CORPUS_FILES if _accepted(p)) > 40


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_accepted_corpus_process_renders(path: Path) -> None:
    """Each process of an accepted file draws as well-formed SVG with a title, or says plainly why not."""
    for process_id in _accepted(path):
        svg = render_svg(path.read_bytes(), process_id, set(), set())
        root = _parse(svg)
        assert root.tag == f"{SVG}svg" and root.get("role") == "img"
        assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
        if "bpmn-no-diagram" in (root.get("class") or ""):
            assert "no drawing" in svg
        else:
            assert root.findall(f".//{SVG}g[@data-element-id]"), "nothing was drawn"


def _main_process() -> bytes:
    return (ROOT / "processes" / "community_trigger.bpmn").read_bytes()


def test_completed_and_waiting_are_marked_without_colour() -> None:
    """A completed step has a tick and a solid thick outline; a waiting one a clock and a dashed one."""
    bpmn = _main_process()
    ids = [
        e.get("id")
        for e in etree.fromstring(bpmn).iter(
            "{http://www.omg.org/spec/BPMN/20100524/MODEL}callActivity"
        )
    ]
    done, waiting = ids[0], ids[1]
    root = _parse(render_svg(bpmn, "community_trigger", {done}, {waiting}))
    done_group, waiting_group = _group(root, done), _group(root, waiting)
    assert "bpmn-completed" in done_group.get("class", "")
    assert "bpmn-waiting" in waiting_group.get("class", "")
    assert "(completed)" in done_group.findtext(f"{SVG}title", "")
    assert "(waiting)" in waiting_group.findtext(f"{SVG}title", "")
    done_shape = done_group.find(f"{SVG}rect")
    waiting_shape = waiting_group.find(f"{SVG}rect")
    assert done_shape is not None and waiting_shape is not None
    assert done_shape.get("stroke-dasharray") is None and done_shape.get("stroke-width") == "4"
    assert waiting_shape.get("stroke-dasharray") and waiting_shape.get("stroke-width") == "4"
    assert done_group.find(f"{SVG}g[@class='bpmn-marker']") is not None
    assert waiting_group.find(f"{SVG}g[@class='bpmn-marker']") is not None
    desc = root.findtext(f"{SVG}desc", "")
    assert "Completed:" in desc and "Waiting:" in desc


def test_shapes_follow_the_element_kind() -> None:
    """Tasks are rounded rectangles with their names, events circles, gateways diamonds, flows lines."""
    bpmn = (ROOT / "processes" / "threshold_decision.bpmn").read_bytes()
    task = _group(_parse(render_svg(bpmn, "threshold_decision", set(), set())), "decide_threshold")
    rect = task.find(f"{SVG}rect")
    assert rect is not None and rect.get("rx")
    assert "Decide threshold" in "".join(task.itertext())
    root = _parse(render_svg(_main_process(), "community_trigger", set(), set()))
    kinds = {g.get("data-kind"): g for g in root.iter(f"{SVG}g") if g.get("data-kind")}
    assert kinds["startEvent"].find(f"{SVG}circle") is not None
    assert kinds["exclusiveGateway"].find(f"{SVG}polygon") is not None
    assert kinds["sequenceFlow"].find(f"{SVG}polyline") is not None
    assert kinds["lane"].find(f"{SVG}rect") is not None


def test_a_process_without_diagram_interchange_gets_a_message() -> None:
    """A process with no BPMNDI is not drawn: the SVG says so in words."""
    bpmn = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="bare" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
</bpmn:definitions>"""
    svg = render_svg(bpmn, "bare", set(), set())
    assert "no drawing" in svg and _parse(svg).get("role") == "img"
    assert "There is no process" in render_svg(bpmn, "other", set(), set())
    assert "cannot be read" in render_svg(b"<not xml", "bare", set(), set())


def test_names_are_escaped() -> None:
    """A name holding markup is shown as text, never as SVG or script."""
    bpmn = (ROOT / "processes" / "threshold_decision.bpmn").read_bytes()
    bpmn = bpmn.replace(b'name="Decide threshold"', b'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    svg = render_svg(bpmn, "threshold_decision", set(), set())
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    _parse(svg)


def test_two_diagrams_on_one_page_have_distinct_ids() -> None:
    """Ids inside the SVG (title, description, arrowhead) differ between drawings of one page."""
    bpmn = _main_process()
    first = _parse(render_svg(bpmn, "community_trigger", set(), set()))
    second = _parse(render_svg(bpmn, "community_trigger", {"x"}, set()))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")
