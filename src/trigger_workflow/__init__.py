"""Run the UK Community Trigger (ASB case review) as BPMN workflows."""
