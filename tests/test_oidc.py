"""Single sign-on through OpenID Connect, against a stub identity provider on loopback.

The provider is real HTTP (discovery, keys, token endpoint) on 127.0.0.1; only its sign-in page
is skipped: the test takes the authorization request and comes back with a code, as a browser
would after the officer signed in there.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session, sessionmaker

from trigger_workflow.app import create_app
from trigger_workflow.services.accounts import actors
from trigger_workflow.settings import Settings

CLIENT_ID = "trigger-workflow-test"


class StubProvider:
    """An OpenID provider on loopback: discovery, JWKS and a token endpoint issuing ID tokens."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.codes: dict[str, dict[str, Any]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def id_token(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """Return a signed ID token with these claims over the standard ones."""
        now = int(time.time())
        standard = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300}
        header = {"alg": "RS256", "kid": "test-key"}
        return jwt.encode(header, {**standard, **claims}, key or self.key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                if self.path == "/.well-known/openid-configuration":
                    self._json(
                        {
                            "issuer": provider.issuer,
                            "authorization_endpoint": provider.issuer + "/authorize",
                            "token_endpoint": provider.issuer + "/token",
                            "jwks_uri": provider.issuer + "/jwks",
                            "id_token_signing_alg_values_supported": ["RS256"],
                        }
                    )
                elif self.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                code = form.get("code", [""])[0]
                if self.path != "/token" or code not in provider.codes:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                self._json(
                    {
                        "access_token": "access",
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.codes.pop(code)["id_token"],
                    }
                )

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                """Keep the test output quiet."""

        return Handler


@pytest.fixture
def provider() -> Iterator[StubProvider]:
    """Run the stub provider for one test."""
    stub = StubProvider()
    stub.thread.start()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture
def sso_app(settings: Settings, provider: StubProvider, deployed: object) -> Iterator[Flask]:
    """Return the app with single sign-on through the stub provider."""
    configured = replace(
        settings,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="secret",
        oidc_provider_name="Derby Council account",
    )
    app = create_app(configured)
    yield app
    app.extensions["trigger_workflow.engine"].dispose()


def authorize(client: FlaskClient, next_page: str = "") -> dict[str, str]:
    """Start single sign-on; return the authorization request's parameters."""
    response = client.get("/sign-in/oidc" + (f"?next={next_page}" if next_page else ""))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def come_back(client: FlaskClient, provider: StubProvider, request: dict[str, str], **claims: Any):  # type: ignore[no-untyped-def]
    """Return from the provider with a code whose ID token carries these claims."""
    provider.codes["code-1"] = {
        "id_token": provider.id_token({"nonce": request["nonce"], **claims})
    }
    return client.get(f"/sign-in/oidc/callback?code=code-1&state={request['state']}")


def test_officer_signs_in_through_the_provider(sso_app: Flask, provider: StubProvider) -> None:
    """The provider vouches for 'carol': she is signed in with her role from our table, and
    goes back to the page she asked for."""
    client = sso_app.test_client()
    assert "Sign in with Derby Council account" in client.get("/sign-in").text
    request = authorize(client, "/cases")
    assert request["client_id"] == CLIENT_ID and request["response_type"] == "code"
    assert request["redirect_uri"] == "http://localhost/sign-in/oidc/callback"
    response = come_back(client, provider, request, sub="1", preferred_username="carol")
    assert response.status_code == 302 and response.headers["Location"] == "/cases"
    assert "Carol Coordinator" in client.get("/tasks").text


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("carol", "/tasks"),
        ("pete", "/tasks"),
        ("ada", "/audit/"),
        ("owen", "/processes"),
        ("adam", "/admin/officers"),
    ],
)
def test_single_sign_on_lands_each_role_on_its_own_work(
    sso_app: Flask, provider: StubProvider, username: str, home: str
) -> None:
    """With no page asked for, an officer signed in by the provider starts where a password
    sign-in would: auditors on the audit, process owners on the processes, administrators on
    the officers, everyone else on their tasks."""
    client = sso_app.test_client()
    response = come_back(client, provider, authorize(client), sub="9", preferred_username=username)
    assert response.status_code == 302 and response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_unknown_or_disabled_account_is_refused(
    sso_app: Flask, provider: StubProvider, sessions: sessionmaker[Session]
) -> None:
    """Someone the provider knows but we do not (or a disabled officer) is not signed in."""
    client = sso_app.test_client()
    response = come_back(client, provider, authorize(client), sub="2", preferred_username="mallory")
    assert response.status_code == 401
    assert "may not use this service" in response.text
    with sessions() as session:
        actors.set_disabled(session, "carol", True, by="adam")
    response = come_back(client, provider, authorize(client), sub="1", preferred_username="carol")
    assert response.status_code == 401
    assert client.get("/tasks").status_code == 302


def test_id_token_with_the_wrong_nonce_or_key_is_refused(
    sso_app: Flask, provider: StubProvider
) -> None:
    """A replayed token (another nonce) or one signed by another key signs nobody in."""
    client = sso_app.test_client()
    request = authorize(client)
    provider.codes["code-1"] = {
        "id_token": provider.id_token(
            {"nonce": "replayed", "preferred_username": "carol", "sub": "1"}
        )
    }
    response = client.get(f"/sign-in/oidc/callback?code=code-1&state={request['state']}")
    assert response.status_code == 401 and "did not work" in response.text
    request = authorize(client)
    forged = provider.id_token(
        {"nonce": request["nonce"], "preferred_username": "carol", "sub": "1"},
        key=RSAKey.generate_key(2048, parameters={"kid": "test-key"}),
    )
    provider.codes["code-1"] = {"id_token": forged}
    response = client.get(f"/sign-in/oidc/callback?code=code-1&state={request['state']}")
    assert response.status_code == 401
    assert client.get("/tasks").status_code == 302


def test_callback_without_a_matching_state_is_refused(
    sso_app: Flask, provider: StubProvider
) -> None:
    """A callback this browser did not start (login CSRF) is refused."""
    client = sso_app.test_client()
    authorize(client)
    response = client.get("/sign-in/oidc/callback?code=code-1&state=not-ours")
    assert response.status_code == 401 and "did not work" in response.text


def test_single_sign_on_routes_are_404_when_not_configured(client: FlaskClient) -> None:
    """Without an issuer there is no single sign-on: no button, and its routes are not there."""
    assert "Sign in with" not in client.get("/sign-in").text
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback").status_code == 404


def test_issuer_without_client_id_stops_the_app_starting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Half a configuration is refused at start, naming the missing variable."""
    with pytest.raises(ValueError, match="OIDC_CLIENT_ID"):
        Settings(instance_path=tmp_path, oidc_issuer="https://login.example/tenant/v2.0")
