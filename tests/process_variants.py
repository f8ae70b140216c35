"""Changed copies of the project's process files: what a process owner might deploy next."""

from __future__ import annotations

import json
import re

from trigger_workflow.engine.loader import ProcessFiles

ACK = "acknowledgement.bpmn"
NEW_TASK_FORM = {
    "type": "object",
    "title": "Confirm named contact",
    "properties": {"contact_confirmed": {"type": "boolean", "title": "Named contact confirmed"}},
}


def relabelled(files: ProcessFiles) -> ProcessFiles:
    """Return the files with the acknowledgement task's label changed."""
    text = files.files[ACK].replace(
        'name="Acknowledge application"', 'name="Acknowledge the application"'
    )
    return ProcessFiles({**files.files, ACK: text})


def task_added_after_acknowledgement(files: ProcessFiles) -> ProcessFiles:
    """Return the files with a new user task, 'Confirm named contact', after the acknowledgement."""
    text = files.files[ACK]
    text = text.replace(
        "<bpmn:flowNodeRef>end_receipt_acknowledged",
        "<bpmn:flowNodeRef>confirm_named_contact</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>end_receipt_acknowledged",
    )
    text = text.replace(
        'targetRef="end_receipt_acknowledged" />',
        'targetRef="confirm_named_contact" />'
        '<bpmn:sequenceFlow id="flow_confirm_end" sourceRef="confirm_named_contact" '
        'targetRef="end_receipt_acknowledged" />',
    )
    text = text.replace(
        '<bpmn:endEvent id="end_receipt_acknowledged" name="Receipt acknowledged">\n'
        "      <bpmn:incoming>flow_acknowledge_application_end</bpmn:incoming>",
        '<bpmn:userTask id="confirm_named_contact" name="Confirm named contact">'
        "<bpmn:extensionElements><spiffworkflow:properties>"
        '<spiffworkflow:property name="formJsonSchemaFilename" value="confirm_named_contact.json" />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
        "<bpmn:incoming>flow_acknowledge_application_end</bpmn:incoming>"
        "<bpmn:outgoing>flow_confirm_end</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:endEvent id="end_receipt_acknowledged" name="Receipt acknowledged">'
        "<bpmn:incoming>flow_confirm_end</bpmn:incoming>",
    )
    assert "flow_confirm_end</bpmn:incoming>" in text
    return ProcessFiles(
        {
            **files.files,
            ACK: text,
            "forms/confirm_named_contact.json": json.dumps(NEW_TASK_FORM, indent=2),
        }
    )


def acknowledgement_removed(files: ProcessFiles) -> ProcessFiles:
    """Return the files without the acknowledgement task: the stage goes straight to its end."""
    text = files.files[ACK]
    text = re.sub(r"<bpmn:userTask .*?</bpmn:userTask>", "", text, flags=re.S)
    text = text.replace("<bpmn:flowNodeRef>acknowledge_application</bpmn:flowNodeRef>", "")
    text = re.sub(r'<bpmn:sequenceFlow id="flow_acknowledge_application_end"[^>]*/>', "", text)
    text = text.replace(
        'sourceRef="start_acknowledgement" targetRef="acknowledge_application"',
        'sourceRef="start_acknowledgement" targetRef="end_receipt_acknowledged"',
    )
    text = text.replace(
        "<bpmn:incoming>flow_acknowledge_application_end</bpmn:incoming>",
        "<bpmn:incoming>flow_start_acknowledge_application</bpmn:incoming>",
    )
    timescales = re.sub(
        r"\[tasks\.acknowledge_application\][^\[]*", "", files.files["timescales.toml"]
    )
    return ProcessFiles({**files.files, ACK: text, "timescales.toml": timescales})


def timer_added_to_acknowledgement(files: ProcessFiles) -> ProcessFiles:
    """Return the files with a second timer, a reminder, on the acknowledgement task."""
    text = files.files[ACK]
    text = text.replace(
        "<bpmn:flowNodeRef>end_receipt_acknowledged",
        "<bpmn:flowNodeRef>acknowledge_application_reminder</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>end_receipt_acknowledged",
    )
    text = text.replace(
        "  </bpmn:process>",
        '<bpmn:boundaryEvent id="acknowledge_application_reminder" name="Reminder" '
        'attachedToRef="acknowledge_application" cancelActivity="false">'
        '<bpmn:timerEventDefinition id="acknowledge_application_reminder_timer">'
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
        'deadlines["acknowledge_application"]</bpmn:timeDate>'
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>\n  </bpmn:process>",
    )
    assert 'id="acknowledge_application_reminder"' in text
    return ProcessFiles({**files.files, ACK: text})
