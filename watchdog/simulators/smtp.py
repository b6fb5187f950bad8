"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and fails on demand.

``FakeSmtp(username=..., password=...)``: ``start()`` binds 127.0.0.1 on a free port
(aiosmtpd cannot bind port 0 itself, so a free port is picked first and the bind is
retried if someone takes it meanwhile), ``stop()`` shuts it down and ``start(port)``
brings it back on the same port (an outage and a recovery). With a username and
password it offers AUTH (LOGIN, PLAIN), even without TLS, as a test server may.
With a ``tls`` server context it requires STARTTLS, or speaks TLS from the first
byte with ``implicit_tls`` (port 465 style).

``fail(kind, times=n)`` scripts the next transactions: ``busy`` (421 at MAIL),
``server_error`` (451 at DATA), ``mailbox_unavailable`` (550 at RCPT),
``echo_secret`` (451 at DATA whose text repeats the password a client logged in
with: a hostile server, for redaction tests). A wrong login is refused with 535.

``messages`` holds every accepted message; ``write_messages(dir)`` saves them as
``NNNN.eml``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["FakeSmtp", "ReceivedMail", "free_port"]

FAULTS = {
    "busy": ("MAIL", "421 4.7.0 Too many connections, try again later"),
    "server_error": ("DATA", "451 4.3.0 Local error in processing"),
    "mailbox_unavailable": ("RCPT", "550 5.1.1 Mailbox unavailable"),
    "echo_secret": ("DATA", "451 4.3.0 Temporary failure for login {password}"),
}


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        """The message parsed with the modern email policy."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self, server: FakeSmtp) -> None:
        self.server = server

    async def handle_MAIL(self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        refusal = self.server._refusal("MAIL", session)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        refusal = self.server._refusal("RCPT", session)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        refusal = self.server._refusal("DATA", session)
        if refusal:
            return refusal
        self.server._keep(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class FakeSmtp:
    """An SMTP server in a thread; thread-safe to inspect and control while it serves."""

    def __init__(self, *, username: str | None = None, password: str | None = None, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None, implicit_tls: bool = False) -> None:
        self.host = host
        self.port = 0
        self.username = username
        self.password = password
        self.tls = tls
        self.implicit_tls = implicit_tls
        self._messages: list[ReceivedMail] = []
        self._faults: deque[list[Any]] = deque()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def start(self, port: int | None = None, attempts: int = 5) -> FakeSmtp:
        """Serve on ``port`` (None: a free one, retried if taken). Raises OSError if it cannot bind."""
        for attempt in range(attempts):
            chosen = port or free_port(self.host)
            controller = Controller(_Handler(self), hostname=self.host, port=chosen, ready_timeout=5.0,
                                    authenticator=self._authenticate if self.username else None,
                                    auth_require_tls=False, **self._tls_options())
            try:
                controller.start()
            except (OSError, RuntimeError):
                if port is not None or attempt == attempts - 1:
                    raise
                continue
            self._controller, self.port = controller, chosen
            return self
        raise OSError("no free port")  # pragma: no cover - the loop returns or raises

    def _tls_options(self) -> dict[str, Any]:
        if self.tls is None:
            return {}
        if self.implicit_tls:
            return {"ssl_context": self.tls}
        return {"tls_context": self.tls, "require_starttls": True}

    def stop(self) -> None:
        """Stop serving (connections are then refused). Safe to call twice."""
        if self._controller is not None:
            with contextlib.suppress(AssertionError):
                self._controller.stop()
            self._controller = None

    def fail(self, kind: str, *, times: int = 1) -> None:
        """Refuse the next ``times`` transactions with fault ``kind``. Raises ValueError."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.append([kind, times])

    def write_messages(self, directory: Path) -> int:
        """Save every accepted message as ``NNNN.eml`` in ``directory``; returns how many."""
        directory.mkdir(parents=True, exist_ok=True)
        mails = self.messages
        for n, mail in enumerate(mails, start=1):
            (directory / f"{n:04d}.eml").write_bytes(mail.data)
        return len(mails)

    def __enter__(self) -> FakeSmtp:
        return self.start() if self._controller is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ handler side

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login.decode() == self.username
              and data.password.decode() == self.password)
        if isinstance(data, LoginPassword):
            session.tried_password = data.password.decode("utf-8", "replace")
        return AuthResult(success=ok, handled=False)

    def _refusal(self, stage: str, session: Any) -> str | None:
        with self._lock:
            for fault in self._faults:
                kind, _times = fault
                if FAULTS[kind][0] != stage:
                    continue
                fault[1] -= 1
                if fault[1] <= 0:
                    self._faults.remove(fault)
                return FAULTS[kind][1].format(password=getattr(session, "tried_password", "?"))
        return None

    def _keep(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)
