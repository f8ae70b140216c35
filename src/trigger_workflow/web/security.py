"""CSRF tokens on every state-changing request, security headers, and secure session cookies."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from trigger_workflow.settings import Settings

csrf = CSRFProtect()

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


class SessionCookies(SecureCookieSessionInterface):
    """Signed session cookies, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure on HTTPS (or always, when SESSION_COOKIE_SECURE is set)."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask, settings: Settings) -> None:
    """Protect every POST with a CSRF token and add the security headers to every response."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        # Write the cookie only when the session changes (sign-in, its CSRF token, sign-out), not
        # signed again on every request: it holds only the session's id, and the idle and age
        # limits are kept on the server (officer_sessions), so a fresher cookie would add nothing.
        SESSION_REFRESH_EACH_REQUEST=False,
        # The session's own expiry bounds the token: a long form is not lost to a timer.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = SessionCookies()
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )
    csrf.init_app(app)

    @app.context_processor
    def nonce() -> dict[str, str]:
        return {"cspNonce": csp_nonce()}

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        # A view may send a stricter policy of its own (a letter, a downloaded document).
        headers.setdefault("Content-Security-Policy", content_security_policy(g.get("csp_nonce")))
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if g.get("actor") is not None:
            # Pages an officer sees hold personal data: no copies in shared caches or history.
            headers["Cache-Control"] = "no-store"
        return response


def csp_nonce() -> str:
    """Return this response's script nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.csp_nonce
    return nonce


def content_security_policy(nonce: str | None) -> str:
    """Return the policy: everything from this site only, scripts only with this response's nonce."""
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
