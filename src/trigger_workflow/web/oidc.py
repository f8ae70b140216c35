"""Sign officers in through the council's OpenID Connect provider (Entra ID, Keycloak, ...).

Authlib does the protocol: discovery, the authorization redirect with state and nonce, the code
exchange, and the ID token's signature, issuer, audience, expiry and nonce checks. We map one
claim to an officer's username; the role and agency still come from our officer table.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from trigger_workflow.services.accounts import access, security_log, sign_in
from trigger_workflow.settings import Settings
from trigger_workflow.web.acting import local_path, start_session
from trigger_workflow.web.database import get_session
from trigger_workflow.web.sign_in import client_address

bp = Blueprint("oidc", __name__)
CLIENT = "trigger_workflow.oidc"
NEXT = "oidc_next"


def init_app(app: Flask, settings: Settings) -> None:
    """Register the provider when an issuer is configured; otherwise the routes answer 404."""
    app.jinja_env.globals["oidc_provider"] = (
        settings.oidc_provider_name if settings.oidc_issuer else None
    )
    if not settings.oidc_issuer:
        return
    oauth = OAuth(app)
    app.extensions[CLIENT] = oauth.register(
        "council",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email"},
    )


def _client() -> Any:
    client = current_app.extensions.get(CLIENT)
    if client is None:
        abort(404, "Single sign-on is not set up on this service.")
    return client


@bp.get("/sign-in/oidc")
def start() -> Response:
    """Send the officer to the identity provider, remembering where they were going."""
    client = _client()
    session[NEXT] = local_path(request.args.get("next", ""))
    response: Response = client.authorize_redirect(url_for("oidc.callback", _external=True))
    return response


@bp.get("/sign-in/oidc/callback")
def callback() -> tuple[str, int] | Response:
    """Take the provider's answer: check the ID token, find the officer, start their session."""
    client = _client()
    target = session.pop(NEXT, "")
    settings: Settings = current_app.extensions["trigger_workflow.settings"]
    try:
        token = client.authorize_access_token()
        claims = token.get("userinfo") or {}
        username = str(claims.get(settings.oidc_username_claim) or "")
        if not username:
            _record_refusal(f"no '{settings.oidc_username_claim}' claim")
            raise sign_in.SignInRefused(
                f"The identity provider did not say who you are ('{settings.oidc_username_claim}')."
            )
        signed_in = sign_in.sign_in_identity(get_session(), username, client_address())
    except (OAuthError, JoseError) as error:
        _record_refusal(f"the provider's answer was refused: {error}")
        return _refused(f"Signing in with {settings.oidc_provider_name} did not work ({error}).")
    except sign_in.SignInRefused as error:
        return _refused(error.message)
    start_session(signed_in)
    flash(f"You are signed in as {signed_in.actor.display_name or signed_in.actor.username}.")
    # With no page asked for, each role starts on its own work, as after a password sign-in.
    return redirect(target or url_for(access.home_for(signed_in.actor)))


def _refused(message: str) -> tuple[str, int]:
    page = render_template("sign_in/form.html", error=message, ended=False, username="")
    return page, 401


def _record_refusal(detail: str) -> None:
    """Put a single sign-on that named nobody in the security log."""
    security_log.record(
        get_session(), security_log.SSO_REFUSED, actor="", subject="", address=client_address(),
        detail=detail,
    )  # fmt: skip
    get_session().commit()
