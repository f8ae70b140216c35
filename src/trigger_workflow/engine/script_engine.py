"""The script engine every workflow runs its scripts, conditions and decision tables with."""

from __future__ import annotations

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from trigger_workflow.engine.script_functions import FUNCTIONS

# The diagrams' scripts see the task data and the plain functions of script_functions.FUNCTIONS.
SCRIPT_ENGINE = PythonScriptEngine(environment=TaskDataEnvironment(dict(FUNCTIONS)))
