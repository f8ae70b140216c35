"""Security headers on every response, a script nonce per response, and secure cookies on HTTPS."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from trigger_workflow.app import create_app
from trigger_workflow.samples import TEST_PASSWORD
from trigger_workflow.settings import Settings


def directives(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Return the Content-Security-Policy as {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";"))  # type: ignore[misc]


@pytest.mark.parametrize("path", ["/", "/apply", "/sign-in", "/no-such-page"])
def test_every_page_sends_the_security_headers(client: FlaskClient, path: str) -> None:
    """Pages, forms and error pages alike say: no sniffing, no framing, same-origin referrers,
    no powerful browser features."""
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    assert "camera=()" in permissions and "geolocation=()" in permissions
    assert "microphone=()" in permissions


def test_content_security_policy_allows_only_this_site(client: FlaskClient) -> None:
    """Everything loads from this site only; no plugins, no framing, forms post here only."""
    policy = directives(client.get("/"))
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert "'unsafe-inline'" not in " ".join(policy.values())


def test_inline_scripts_run_only_with_this_responses_nonce(client: FlaskClient) -> None:
    """Every inline script on the page carries the nonce the policy names, and the nonce
    changes from one response to the next."""
    first = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", directives(first)["script-src"])
    assert nonce is not None
    scripts = re.findall(r"<script\b([^>]*)>", first.text)
    assert scripts, "the page has scripts"
    assert all(f'nonce="{nonce.group(1)}"' in attributes for attributes in scripts)
    second = directives(client.get("/"))["script-src"]
    assert nonce.group(1) not in second


def test_hsts_and_secure_cookie_only_over_https(app: Flask, client: FlaskClient) -> None:
    """Over HTTPS the browser is told to stay on HTTPS and the session cookie is Secure;
    over plain HTTP (local development) neither is sent."""
    https = client.get("/sign-in", base_url="https://localhost")
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in https.headers["Set-Cookie"]
    http = app.test_client().get("/sign-in")
    assert "Strict-Transport-Security" not in http.headers
    assert "Secure" not in http.headers["Set-Cookie"]


def test_cookie_is_http_only_and_same_site_lax(client: FlaskClient) -> None:
    """Scripts cannot read the session cookie, and other sites' forms do not send it."""
    cookie = client.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_behind_a_trusted_proxy_is_recognised(app: Flask, settings: Settings) -> None:
    """With TRUSTED_PROXIES set, X-Forwarded-Proto: https from the proxy counts as HTTPS;
    without it, the header is ignored (a client could send it)."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    assert "Strict-Transport-Security" not in app.test_client().get("/", headers=forwarded).headers
    proxied = create_app(replace(settings, trusted_proxies=1))
    try:
        response = proxied.test_client().get("/", headers=forwarded)
        assert "Strict-Transport-Security" in response.headers
    finally:
        proxied.extensions["trigger_workflow.engine"].dispose()


def test_officer_pages_are_not_stored_by_caches(client: FlaskClient) -> None:
    """Pages shown to a signed-in officer hold personal data: Cache-Control: no-store."""
    client.post("/sign-in", data={"username": "carol", "password": TEST_PASSWORD})
    assert client.get("/tasks").headers["Cache-Control"] == "no-store"
