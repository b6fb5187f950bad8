"""The email notifier: the managers' daily digest as multipart/alternative, sent with smtplib.

``render_email(digest) -> EmailMessage`` builds a ``multipart/alternative`` message:
a plain-text twin first, then HTML from jinja2 templates (autoescaped) with the
CSS inlined by css-inline, in a table layout common mail clients render. The
``Message-ID`` is the digest's own (one per integration and day), so a mail client
that sees the same digest twice can tell.

``EmailNotifier(SmtpSettings(...)).send(digest)`` delivers it: implicit TLS
(``ssl``), STARTTLS (``starttls``, refused rather than falling back to clear
text) and login are configurable; every connection has a timeout. Failures:

- transient: connection refused/reset, timeouts, disconnects, SMTP 4xx (421 busy, 451, 454);
- permanent: SMTP 5xx (550 mailbox unavailable, 535 bad login), STARTTLS not offered,
  certificate not trusted.

The username and password never appear in an error.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.digest import (
    FigureLine,
    age,
    alert_line,
    coverage_label,
    coverage_line,
    figure_line,
    local_time,
    subject,
)
from watchdog.notify import (
    Alert,
    DeliveryError,
    ManagerDigest,
    Message,
    Receipt,
    Secret,
    findings_command,
    redact,
)

__all__ = ["EmailNotifier", "SmtpSettings", "render_email", "template_context"]

TEMPLATES = Path(__file__).parent / "templates"
ENV = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True,
                  trim_blocks=True, lstrip_blocks=True,
                  autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False))


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. ``ssl``: implicit TLS (port 465); else STARTTLS if ``starttls``."""

    host: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: Secret | None = None
    password: Secret | None = None
    timeout: float = 30.0


def _alert_row(alert: Alert, now: Any) -> dict[str, Any]:
    return {"check": alert.check, "subject": alert.subject, "summary": alert.summary, "owner": alert.owner,
            "severity": alert.severity, "age": age(alert.first_seen, now), "acked_by": alert.acked_by,
            "links": {k: v for k, v in sorted(alert.links.items()) if v.startswith(("https://", "http://"))},
            "line": alert_line(alert, now)}


def template_context(d: ManagerDigest) -> dict[str, Any]:
    """Everything the templates show, already in words (not escaped: the HTML template escapes)."""
    figures: list[FigureLine] = [figure_line(f, d.currency) for f in d.figures]
    return {
        "subject": subject(d), "integration": d.integration, "day": d.day.strftime("%A %d %B %Y"),
        "generated": local_time(d.generated_at, d.timezone), "since": local_time(d.since, d.timezone),
        "timezone": d.timezone, "currency": d.currency, "figures": figures, "open_total": d.open_total,
        "by_check": d.by_check, "new": [_alert_row(a, d.generated_at) for a in d.new], "new_total": d.new_total,
        "resolved": [_alert_row(a, d.generated_at) for a in d.resolved], "resolved_total": d.resolved_total,
        "oldest": [_alert_row(a, d.generated_at) for a in d.oldest],
        "coverage": [{"check": r.check, "status": r.status, "label": coverage_label(r.status),
                      "line": coverage_line(r, d.timezone)} for r in d.coverage],
        "not_checked": [f"{r.check} ({r.reason})" if r.reason else r.check
                        for r in d.coverage if r.status == "not_checked"],
        "command": findings_command(d.integration),
    }


def render_email(d: ManagerDigest) -> EmailMessage:
    """The digest as a multipart/alternative message (text/plain, then inlined text/html)."""
    context = template_context(d)
    text = ENV.get_template("manager_digest.txt.j2").render(**context)
    html = css_inline.inline(ENV.get_template("manager_digest.html.j2").render(**context))
    message = EmailMessage()
    message["Subject"] = context["subject"]
    message["From"] = d.sender
    message["To"] = ", ".join(d.recipients)
    message["Date"] = format_datetime(d.generated_at)
    message["Message-ID"] = d.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class EmailNotifier:
    """Sends the managers' digest over SMTP."""

    kind = "email"

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self.settings.host!r}, port={self.settings.port})"

    def send(self, message: Message) -> Receipt:
        """Deliver a ManagerDigest. Returns its Message-ID; raises DeliveryError."""
        if not isinstance(message, ManagerDigest):
            raise DeliveryError(f"the email notifier cannot send a {type(message).__name__}", permanent=True,
                                code="unsupported")
        if not message.recipients:
            raise DeliveryError("no recipients configured ([email] to)", permanent=True, code="no_recipients")
        self.deliver(render_email(message), message.sender, message.recipients)
        return Receipt(message.message_id)

    def deliver(self, message: EmailMessage, sender: str, recipients: tuple[str, ...]) -> None:
        """Hand ``message`` to the SMTP server. Raises DeliveryError."""
        stage = "connect"
        try:
            with self._connect() as smtp:
                stage = "starttls"
                if self.settings.starttls and not self.settings.ssl:
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                stage = "login"
                if self.settings.username is not None and self.settings.password is not None:
                    smtp.login(self.settings.username.reveal(), self.settings.password.reveal())
                stage = "send"
                smtp.send_message(message, from_addr=sender, to_addrs=list(recipients))
        except (smtplib.SMTPException, OSError) as exc:
            raise self._error(stage, exc) from None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout)

    def _error(self, stage: str, exc: BaseException) -> DeliveryError:
        code, permanent, why = _classify(exc)
        text = redact(f"SMTP {stage} to {self.settings.host}:{self.settings.port} failed: {why}",
                      [self.settings.username, self.settings.password])
        return DeliveryError(text[:500], permanent=permanent, code=code)


def _reply(code: int, raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{code} {text}".strip()


def _classify(exc: BaseException) -> tuple[str, bool, str]:
    """(code, permanent, words) for an SMTP or socket failure."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies: Mapping[str, tuple[int, bytes]] = exc.recipients
        permanent = all(code >= 500 for code, _ in replies.values())
        first = next(iter(replies.values()), (550, b"refused"))
        return f"smtp_{first[0]}", permanent, f"recipients refused: {_reply(*first)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "starttls_unsupported", True, "the server does not offer STARTTLS"
    if isinstance(exc, smtplib.SMTPResponseException):
        code = int(exc.smtp_code)
        return f"smtp_{code}", code >= 500, _reply(code, exc.smtp_error)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls_verify", True, f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "disconnected", False, "the server closed the connection"
    if isinstance(exc, smtplib.SMTPException):
        return "smtp", False, type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "timeout", False, "timed out"
    return "connection", False, f"{type(exc).__name__}: {exc}"
