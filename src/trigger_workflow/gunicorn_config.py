"""gunicorn's settings for this app: `gunicorn -c python:trigger_workflow.gunicorn_config ...`.

Logs are JSON lines on standard error (trigger_workflow/logs.py); the access log keeps the
path but not the query string. Bind address and worker count can be overridden as usual
(command-line flags or GUNICORN_CMD_ARGS).
"""

import os

from trigger_workflow import logs

bind = os.environ.get("TRIGGER_WORKFLOW_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("TRIGGER_WORKFLOW_WORKERS", "3"))
access_log_format = logs.ACCESS_FORMAT
logconfig_dict = logs.config(os.environ.get("TRIGGER_WORKFLOW_LOG_LEVEL", "INFO"))
