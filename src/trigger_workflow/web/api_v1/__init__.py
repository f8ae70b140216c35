"""The supported JSON API, /api/v1: bearer tokens for systems, an OpenAPI 3.1 document made
from the code, and errors as RFC 9457 problem details. The older /api/... (web/api.py) stays for
the browser session's scripts."""

from trigger_workflow.web.api_v1.blueprint import bp, init_app

__all__ = ["bp", "init_app"]
