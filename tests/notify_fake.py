"""A fake GOV.UK Notify on loopback: checks the client's JWT, records requests, answers like Notify.

A small Flask app in a thread on a free port. It checks what Notify checks of a request (a
bearer JWT signed HS256 with the API key's secret, issued by the service id, not from the
future or more than 30 seconds old; the fields each endpoint needs; a letter's content is a
base64 PDF) and answers with Notify's shapes: 201 with the notification's id, or an error body
``{"status_code": ..., "errors": [...]}``. Tests can make it refuse or stall the next requests.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, request
from werkzeug.serving import make_server

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"trigger_workflow_test-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE = "11111111-1111-4111-8111-111111111111"
SMS_TEMPLATE = "22222222-2222-4222-8222-222222222222"
LETTER_EMAIL_TEMPLATE = "33333333-3333-4333-8333-333333333333"
TEMPLATES = {EMAIL_TEMPLATE: "email", SMS_TEMPLATE: "sms", LETTER_EMAIL_TEMPLATE: "email"}


@dataclass
class Sent:
    """One notification Notify accepted."""

    id: str
    kind: str  # email / sms / letter
    body: dict[str, Any]


@dataclass
class FakeNotify:
    """What the fake accepted and refused, and what it will do to the next requests."""

    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # statuses for the next requests
    refuse_recipients: dict[str, int] = field(default_factory=dict)  # address/number -> status
    stall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_kind(self, kind: str) -> list[Sent]:
        """Return the notifications of one kind, in the order they came."""
        return [s for s in self.sent if s.kind == kind]


def _error(status: int, kind: str, message: str) -> tuple[dict[str, Any], int]:
    return {"status_code": status, "errors": [{"error": kind, "message": message}]}, status


def make_app(fake: FakeNotify) -> Flask:
    """Return the fake's WSGI app."""
    app = Flask(__name__)

    def refusal(kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        try:
            claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"])
        except jwt.PyJWTError as error:
            return _error(403, "AuthError", f"Invalid token: {error}")
        if claims.get("iss") != SERVICE_ID or abs(time.time() - claims.get("iat", 0)) > 30:
            return _error(403, "AuthError", "Invalid token: iss or iat is wrong")
        with fake.lock:
            if fake.fail_next:
                status = fake.fail_next.pop(0)
                return _error(status, "Error", f"The fake was told to answer {status}")
        if kind == "letter":
            content = base64.b64decode(body.get("content", ""))
            if not body.get("reference") or not content.startswith(b"%PDF"):
                return _error(400, "ValidationError", "content is not a PDF, or no reference")
            return None
        to = body.get("email_address" if kind == "email" else "phone_number")
        template = body.get("template_id")
        if not to or TEMPLATES.get(template) != kind:
            return _error(400, "BadRequestError", f"Template not found or no recipient ({kind})")
        if to in fake.refuse_recipients:
            return _error(fake.refuse_recipients[to], "BadRequestError", f"Not a valid {kind}")
        return None

    def accept(kind: str) -> tuple[dict[str, Any], int]:
        if fake.stall_seconds:
            time.sleep(fake.stall_seconds)
        body = request.get_json(silent=True) or {}
        refused = refusal(kind, body)
        if refused is not None:
            with fake.lock:
                fake.refused.append((refused[1], kind))
            return refused
        notification_id = str(uuid.uuid4())
        with fake.lock:
            fake.sent.append(Sent(notification_id, kind, body))
        answer: dict[str, Any] = {"id": notification_id, "reference": body.get("reference")}
        if kind == "letter":
            answer["postage"] = body.get("postage", "second")
        else:
            answer |= {
                "content": {"body": (body.get("personalisation") or {}).get("body", "")},
                "uri": f"{request.host_url}v2/notifications/{notification_id}",
                "template": {"id": body.get("template_id"), "version": 1, "uri": ""},
            }
        return answer, 201

    app.add_url_rule("/v2/notifications/email", "email", lambda: accept("email"), methods=["POST"])
    app.add_url_rule("/v2/notifications/sms", "sms", lambda: accept("sms"), methods=["POST"])
    app.add_url_rule(
        "/v2/notifications/letter", "letter", lambda: accept("letter"), methods=["POST"]
    )
    return app


@contextmanager
def notify_server() -> Iterator[tuple[FakeNotify, str]]:
    """Run the fake on a free loopback port while the block runs; yield it and its base URL."""
    fake = FakeNotify()
    server = make_server("127.0.0.1", 0, make_app(fake), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
