"""Read the application's settings from the environment, once."""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "TRIGGER_WORKFLOW_"


def _project_root() -> Path:
    """Return the checkout this package runs from (src layout), or the working directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "processes").is_dir() and (parent / "forms").is_dir():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything the application can be configured with; each field has an env variable."""

    instance_path: Path = field(default_factory=lambda: Path.cwd() / "instance")
    database_url: str = ""
    processes_dir: Path = field(default_factory=lambda: _project_root() / "processes")
    forms_dir: Path = field(default_factory=lambda: _project_root() / "forms")
    assets_dir: Path = field(
        default_factory=lambda: (
            _project_root() / "node_modules" / "govuk-frontend" / "dist" / "govuk"
        )
    )
    editor_assets_dir: Path = field(default_factory=lambda: _project_root() / "build" / "editor")
    secret_key: str = ""
    reference_prefix: str = "CT"
    council_name: str = "Derby City Council"
    # Letters and the outbox (issue 3): the council's details printed on every letter, the mail
    # server that sends them, and the limits on uploaded documents.
    council_address: str = "The Council House, Corporation Street, Derby DE1 2FS"
    council_email: str = "asb.casereview@example.gov.uk"
    council_phone: str = "01332 000000"
    # The Office of the Police and Crime Commissioner, which hears appeals (R18): printed on every
    # letter that offers an appeal and on the appeal decision.
    opcc_name: str = "Office of the Police and Crime Commissioner for Derbyshire"
    opcc_address: str = "Butterley Hall, Ripley, Derbyshire DE5 3RS"
    opcc_email: str = "opcc.appeals@example.gov.uk"
    opcc_phone: str = "0300 000 0000"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: str = "none"  # none / starttls / ssl
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    outbox_max_attempts: int = 5
    # GOV.UK Notify (issue 14): off unless an API key is set. With it, emails and text messages
    # go through Notify instead of SMTP, each with a Notify template whose placeholders are
    # ((subject)) and ((body)) (and ((link_to_file)) for emailed letters); with notify_letters,
    # letters for post are sent to Notify to print and post instead of the print queue.
    notify_api_key: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_email_template_id: str = ""
    notify_letter_email_template_id: str = ""
    notify_sms_template_id: str = ""
    notify_letters: bool = False
    notify_callback_token: str = ""
    notify_timeout_seconds: float = 30.0
    # Links in officers' task emails start with this address (e.g. https://asb.example.gov.uk).
    public_base_url: str = ""
    # Track your case (issue 14): how long a one-time code lasts, and how many codes may be asked
    # for per reference and per client address in an hour.
    tracking_code_minutes: int = 15
    tracking_codes_per_reference: int = 3
    tracking_requests_per_address: int = 20
    upload_max_bytes: int = 10 * 1024 * 1024
    # Hostile input (issue 11): how much the public may upload with forms not (yet) sent, per
    # client address and in all, and how long such uploads are kept.
    upload_client_max_files: int = 10
    upload_client_max_bytes: int = 30 * 1024 * 1024
    upload_unclaimed_max_bytes: int = 500 * 1024 * 1024
    upload_keep_unclaimed_minutes: int = 120
    testing: bool = False
    # Sign-in (issue 4): sessions, throttling, password hashing, proxies.
    session_idle_minutes: int = 30
    session_max_hours: int = 10
    sign_in_max_failures: int = 5
    sign_in_address_max_failures: int = 20
    sign_in_lockout_minutes: int = 15
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    trusted_proxies: int = 0
    # Single sign-on through the council's OpenID Connect provider (off unless issuer is set).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_username_claim: str = "preferred_username"
    oidc_provider_name: str = "your council account"
    # Diagram scripts (issue 11): they run in worker processes under these limits, per script
    # and per step (a task completion, a timer firing); past them the case gets an incident.
    script_time_limit_seconds: float = 5.0
    script_memory_limit_mb: int = 256
    script_data_limit_kb: int = 1024
    script_workers: int = 2
    # Data protection (issue 13): years a closed case's personal data is kept when its
    # authority sets none; then the worker erases it (the retention schedule).
    retention_years: int = 6

    def __post_init__(self) -> None:
        for name in (
            "instance_path",
            "processes_dir",
            "forms_dir",
            "assets_dir",
            "editor_assets_dir",
        ):
            object.__setattr__(self, name, Path(getattr(self, name)).resolve())
        if not re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", self.reference_prefix):
            raise ValueError(
                f"{ENV_PREFIX}REFERENCE_PREFIX must be 1 to 8 capital letters or digits, "
                f"starting with a letter; got {self.reference_prefix!r}."
            )
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError(
                f"{ENV_PREFIX}OIDC_ISSUER is set but {ENV_PREFIX}OIDC_CLIENT_ID is not: "
                "set both (and the client secret) to sign officers in through OpenID Connect."
            )
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise ValueError(
                f"{ENV_PREFIX}SMTP_SECURITY must be none, starttls or ssl; got {self.smtp_security!r}."
            )
        if self.upload_max_bytes < 1 or self.outbox_max_attempts < 1:
            raise ValueError(
                f"{ENV_PREFIX}UPLOAD_MAX_BYTES and {ENV_PREFIX}OUTBOX_MAX_ATTEMPTS must be positive."
            )
        upload_limits = (
            "upload_client_max_files",
            "upload_client_max_bytes",
            "upload_unclaimed_max_bytes",
            "upload_keep_unclaimed_minutes",
        )
        for name in upload_limits:
            if getattr(self, name) < 1:
                raise ValueError(f"{ENV_PREFIX}{name.upper()} must be positive.")
        if (
            self.script_time_limit_seconds <= 0
            or self.script_memory_limit_mb < 64
            or self.script_data_limit_kb < 1
            or self.script_workers < 1
        ):
            raise ValueError(
                f"{ENV_PREFIX}SCRIPT_TIME_LIMIT_SECONDS, _SCRIPT_DATA_LIMIT_KB and _SCRIPT_WORKERS "
                f"must be positive, and {ENV_PREFIX}SCRIPT_MEMORY_LIMIT_MB at least 64."
            )
        if self.notify_api_key and not (
            self.notify_email_template_id and self.notify_sms_template_id
        ):
            raise ValueError(
                f"{ENV_PREFIX}NOTIFY_API_KEY is set, so {ENV_PREFIX}NOTIFY_EMAIL_TEMPLATE_ID and "
                f"{ENV_PREFIX}NOTIFY_SMS_TEMPLATE_ID must be set too (GOV.UK Notify templates)."
            )
        if (
            self.tracking_code_minutes < 1
            or self.tracking_codes_per_reference < 1
            or self.tracking_requests_per_address < 1
        ):
            raise ValueError(f"{ENV_PREFIX}TRACKING_* settings must be positive.")
        if not 1 <= self.retention_years <= 100:
            raise ValueError(f"{ENV_PREFIX}RETENTION_YEARS must be 1 to 100 years.")
        if not self.mail_from:
            object.__setattr__(self, "mail_from", self.council_email)
        if not self.database_url:
            path = self.instance_path / "trigger_workflow.sqlite"
            object.__setattr__(self, "database_url", f"sqlite:///{path}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from TRIGGER_WORKFLOW_* variables, then apply overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in (
            ("instance_path", Path),
            ("database_url", str),
            ("processes_dir", Path),
            ("forms_dir", Path),
            ("assets_dir", Path),
            ("editor_assets_dir", Path),
            ("secret_key", str),
            ("reference_prefix", str),
            ("council_name", str),
            ("session_idle_minutes", int),
            ("session_max_hours", int),
            ("sign_in_max_failures", int),
            ("sign_in_address_max_failures", int),
            ("sign_in_lockout_minutes", int),
            ("argon2_time_cost", int),
            ("argon2_memory_kib", int),
            ("trusted_proxies", int),
            ("oidc_issuer", str),
            ("oidc_client_id", str),
            ("oidc_client_secret", str),
            ("oidc_username_claim", str),
            ("oidc_provider_name", str),
            ("council_address", str),
            ("council_email", str),
            ("council_phone", str),
            ("opcc_name", str),
            ("opcc_address", str),
            ("opcc_email", str),
            ("opcc_phone", str),
            ("smtp_host", str),
            ("smtp_port", int),
            ("smtp_security", str),
            ("smtp_user", str),
            ("smtp_password", str),
            ("mail_from", str),
            ("outbox_max_attempts", int),
            ("notify_api_key", str),
            ("notify_base_url", str),
            ("notify_email_template_id", str),
            ("notify_letter_email_template_id", str),
            ("notify_sms_template_id", str),
            ("notify_letters", _flag),
            ("notify_callback_token", str),
            ("notify_timeout_seconds", float),
            ("public_base_url", str),
            ("tracking_code_minutes", int),
            ("tracking_codes_per_reference", int),
            ("tracking_requests_per_address", int),
            ("upload_max_bytes", int),
            ("upload_client_max_files", int),
            ("upload_client_max_bytes", int),
            ("upload_unclaimed_max_bytes", int),
            ("upload_keep_unclaimed_minutes", int),
            ("script_time_limit_seconds", float),
            ("script_memory_limit_mb", int),
            ("script_data_limit_kb", int),
            ("script_workers", int),
            ("retention_years", int),
        ):
            raw = env.get(ENV_PREFIX + name.upper())
            if raw:
                values[name] = kind(raw)
        values.update(overrides)
        return cls(**values)

    def with_secret_key(self) -> Settings:
        """Return settings whose secret key is set, generated once into the instance folder."""
        if self.secret_key:
            return self
        self.instance_path.mkdir(parents=True, exist_ok=True)
        key_file = self.instance_path / "secret_key"
        try:
            # Exclusive and private from the first byte: several workers may start at once.
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
        return replace(self, secret_key=_read_key(key_file))


def _flag(raw: str) -> bool:
    """Read a yes/no setting: true/yes/1/on, or false/no/0/off."""
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"Expected true or false, got {raw!r}.")


def _read_key(key_file: Path) -> str:
    """Read the key, waiting briefly if another process is still writing it."""
    for _ in range(50):
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"The secret key file {key_file} is empty: delete it and start again.")
