"""Structured logs: one JSON object a line on standard error, for the web app and the worker.

Access log lines (gunicorn's, and the development server's) carry the path without its query
string: a search by an applicant's name must not land in a log.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed in `extra` and is logged as a field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# gunicorn's access atoms worth keeping (never the query string, "q", nor the referrer, "f").
ACCESS_FIELDS = {
    "h": "remote",
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
}
ACCESS_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
_QUERY = re.compile(r"\?[^\s\"]*")


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            line["message"] = ACCESS_FORMAT % record.args
            line.update({name: record.args.get(atom) for atom, name in ACCESS_FIELDS.items()})
        else:
            line["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class StripQueryStrings(logging.Filter):
    """Drop query strings from the development server's request lines (werkzeug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments without query strings; keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY.sub("", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def config(level: str = "INFO") -> dict[str, Any]:
    """Return the logging configuration (also gunicorn's logconfig_dict)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"no_query": {"()": StripQueryStrings}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
            "werkzeug": {"level": "INFO", "filters": ["no_query"], "propagate": True},
            # SpiffWorkflow logs every task's change of state at INFO with the task's data: a
            # case's personal data, copied into the logs at every step (issue 13), and a JSON
            # dump of the whole data dozens of times per completion.
            "spiff": {"level": "WARNING"},
            # Chatty at INFO about their own workings (each PDF's steps, each plugin loaded).
            "weasyprint": {"level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure(level: str = "INFO") -> None:
    """Send every log record to standard error as JSON lines."""
    logging.config.dictConfig(config(level))


def configure_unless_configured(level: str = "INFO") -> None:
    """Configure JSON logs unless something (gunicorn's logconfig_dict, pytest) already did."""
    if not logging.getLogger().handlers:
        configure(level)
