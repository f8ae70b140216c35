"""Time officers' pages over real HTTP: a threaded server on a loopback port, a signed-in client."""

from __future__ import annotations

import http.client
import logging
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from database import BenchDatabase
from flask import Flask
from sqlalchemy import select, update
from tasklist import Timing
from timing import median, p95, timed
from werkzeug.serving import WSGIRequestHandler, make_server

from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.services.accounts import access, actors
from trigger_workflow.store.models import Case, OpenTask

# The pages an officer waits for most, with what each shows.
PAGES = [
    ("/tasks", "inbox: all my team's tasks (default)"),
    ("/tasks?view=mine", "inbox: my tasks"),
    ("/tasks?view=unclaimed", "inbox: unclaimed"),
    ("/tasks?view=team&due=overdue&sort=-due", "inbox: overdue, latest due first"),
    ("/cases", "case list, page 1 of all, with the count"),
    ("/cases?q=Applicant+9999", "case list: applicant name search"),
    ("/cases?status=open&overdue=yes", "case list: open with an overdue task"),
]
CLAIMED_BY_OFFICER = 40  # tasks the bench gives the signed-in officer, for "my tasks"


class NoDelayHandler(WSGIRequestHandler):
    """Send each response at once, as production servers do (TCP_NODELAY).

    Werkzeug writes the headers and the body separately; with Nagle's algorithm on, the body
    waits for the client's delayed ACK of the headers, adding about 40 ms to every response.
    """

    protocol_version = "HTTP/1.1"  # keep the connection open between requests

    def setup(self) -> None:
        """Turn Nagle's algorithm off on the accepted connection."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@contextmanager
def serve(app: Flask) -> Iterator[int]:
    """Serve the app on a free loopback port in a thread; yield the port."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=NoDelayHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def give_tasks(database: BenchDatabase, username: str, role: str) -> None:
    """Assign some of the role's unclaimed tasks to the officer, so 'my tasks' is not empty: of
    her own council's cases, as she could claim (in a county, another council's would not show)."""
    with database.sessions() as session:
        officer = actors.find_officer(session, username)
        ids = session.scalars(
            select(OpenTask.id)
            .join(Case, Case.id == OpenTask.case_id)
            .where(OpenTask.role == role, OpenTask.assignee.is_(None))
            .where(access.in_authorities(officer))
            .limit(CLAIMED_BY_OFFICER)
        ).all()
        session.execute(update(OpenTask).where(OpenTask.id.in_(ids)).values(assignee=username))
        session.commit()


def time_pages(app: Flask, username: str, runs: int, warmup: int = 5) -> dict[str, Timing]:
    """Time each page over one keep-alive HTTP connection, signed in as the officer."""
    results = {}
    with serve(app) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookie = _sign_in(connection, username)

        for path, _ in PAGES:

            def once(path: str = path) -> int:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                body = response.read().decode()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")
                return body.count('class="govuk-table__row"') - 1

            for _ in range(warmup):
                once()
            samples = [timed(once) for _ in range(runs)]
            times = [s[1] for s in samples]
            results[path] = Timing(median(times), p95(times), samples[0][0])
        connection.close()
    return results


def _sign_in(connection: http.client.HTTPConnection, username: str) -> str:
    """Sign in through the sign-in form, as a browser does, and return the session cookie."""
    connection.request("GET", "/sign-in")
    page = connection.getresponse()
    text = page.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', text)
    first_cookie = page.getheader("Set-Cookie", "")
    if token is None or not first_cookie:
        raise RuntimeError(f"no sign-in form: {page.status}")
    body = urllib.parse.urlencode(
        {"username": username, "password": TEST_PASSWORD, "csrf_token": token.group(1)}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": first_cookie.split(";", 1)[0],
    }
    connection.request("POST", "/sign-in", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie", "")
    if response.status != 302 or not cookie:
        raise RuntimeError(f"could not sign in as {username}: {response.status}")
    return cookie.split(";", 1)[0]
