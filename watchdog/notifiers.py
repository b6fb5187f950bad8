"""Notifiers from the configuration: Slack when a bot token is set, email when an SMTP host is.

``build_notifiers(config) -> {"slack": SlackNotifier, "email": EmailNotifier}`` (each
only when configured) is what the service, the demo and ``watchdog digest`` hand to
``watchdog.dispatch.Dispatcher``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from alerts.email import EmailNotifier, SmtpSettings
from alerts.slack import SlackNotifier
from watchdog.config import Config
from watchdog.notify import Notifier

__all__ = ["build_notifiers"]


def build_notifiers(config: Config, *, sleep: Callable[[float], None] = time.sleep,
                    timeout: float = 10.0) -> dict[str, Notifier]:
    """The configured notifiers by kind ("slack", "email"); empty when neither is configured."""
    notifiers: dict[str, Notifier] = {}
    if config.slack.token:
        notifiers["slack"] = SlackNotifier(config.slack.token, base_url=config.slack.base_url, timeout=timeout,
                                           sleep=sleep)
    email = config.email
    if email.smtp_host:
        notifiers["email"] = EmailNotifier(SmtpSettings(
            host=email.smtp_host, port=email.smtp_port, starttls=email.starttls, ssl=email.ssl,
            username=email.username, password=email.password, timeout=max(timeout, 30.0)))
    return notifiers
