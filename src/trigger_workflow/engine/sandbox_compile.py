"""Compile diagrams' code under RestrictedPython, with size guards and time checks woven in."""

from __future__ import annotations

import ast
import re
import warnings
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted

from trigger_workflow.engine.sandbox_guards import MAX_ITEMS, ScriptRefused

SCRIPT_FILENAME = "<string>"  # the name SpiffWorkflow looks for to find a failing line


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus guards on operators that can allocate without bound."""

    GUARDED = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Add: "+", ast.Mod: "%"}

    def visit_BinOp(self, node: ast.BinOp) -> Any:  # noqa: N802 (the ast visitor names)
        """Route `*`, `**`, `<<`, `+` and `%` through the size guard."""
        node = self.node_contents_visit(node)
        symbol = self.GUARDED.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        return _located(call, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse f-string widths that would make huge strings, and widths computed at run time."""
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr):
            for part in spec.values:
                if not isinstance(part, ast.Constant):
                    self.error(node, "An f-string's format may not be computed: write it out.")
                elif any(int(n) > MAX_ITEMS for n in re.findall(r"\d+", str(part.value))):
                    self.error(node, f"An f-string's width may not exceed {MAX_ITEMS:,}.")
        return self.node_contents_visit(node)

    def visit_While(self, node: ast.While) -> Any:  # noqa: N802 (the ast visitor names)
        """Count every pass of a loop against the time limit."""
        node = self.node_contents_visit(node)
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_For(self, node: ast.For) -> Any:  # noqa: N802 (the ast visitor names)
        """Count every pass of a loop against the time limit."""
        result = super().visit_For(node)
        assert isinstance(result, ast.For)
        result.body.insert(0, _tick_statement(node))
        return result

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:  # noqa: N802 (the ast visitor names)
        """Count every call of a function against the time limit."""
        result = super().visit_FunctionDef(node)
        assert isinstance(result, ast.FunctionDef)
        result.body.insert(0, _tick_statement(node))
        return result

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        """Count every pass of a comprehension against the time limit."""
        result = super().visit_comprehension(node)
        assert isinstance(result, ast.comprehension)
        result.ifs.insert(0, _tick_call(result.iter))
        return result

    def visit_Try(self, node: ast.Try) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse `finally` and bare `except`: they could outlive the time limit."""
        if node.finalbody:
            self.error(node, "'try … finally' is not allowed in diagram scripts.")
        for handler in node.handlers:
            if handler.type is None:
                self.error(handler, "A bare 'except:' is not allowed: name the exception caught.")
        return self.node_contents_visit(node)

    def visit_Import(self, node: ast.Import) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse imports when compiling, naming the module."""
        names = ", ".join(alias.name for alias in node.names)
        self.error(node, f"Scripts may not import modules (import {names}).")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:  # noqa: N802 (the ast visitor names)
        """Refuse imports when compiling, naming the module."""
        self.error(node, f"Scripts may not import modules (from {node.module} import …).")


def _tick_call(where: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
    return _located(call, where)


def _tick_statement(where: ast.AST) -> ast.Expr:
    return _located(ast.Expr(_tick_call(where)), where)


def _located(node: Any, where: ast.AST) -> Any:
    """Give generated nodes the source position of the code they guard."""
    for child in ast.walk(node):
        ast.copy_location(child, where)
    return node


LINE = re.compile(r"^Line (\d+): (.*)$")


@lru_cache(maxsize=2048)
def compile_script(source: str, mode: str) -> CodeType:
    """Compile a script ('exec') or expression ('eval') under the sandbox's rules, or refuse it."""
    try:
        with warnings.catch_warnings():
            # "Prints, but never reads 'printed'": print() output is collected and dropped.
            warnings.simplefilter("ignore", SyntaxWarning)
            return compile_restricted(source, SCRIPT_FILENAME, mode, policy=SandboxPolicy)  # type: ignore[arg-type]
    except SyntaxError as error:
        messages = error.args[0] if error.args else str(error)
        if isinstance(messages, (list, tuple)) and messages:
            first = LINE.match(str(messages[0]))
            if first:
                text = "; ".join(LINE.sub(r"\2", str(m)) for m in messages)
                raise ScriptRefused(text, int(first.group(1))) from None
            raise ScriptRefused("; ".join(map(str, messages)), error.lineno) from None
        raise
