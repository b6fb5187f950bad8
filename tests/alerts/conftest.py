"""Fixtures for the alert tests: the fake Slack Web API and an SMTP server, both on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alerts.slack import ChannelPacer, SlackNotifier
from tests.alerts.support import SLACK_TOKEN
from watchdog.notify import Secret
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.serve import ServedApp
from watchdog.simulators.smtp import FakeSmtp


class Sleeps:
    """A sleep that only records how long it was asked to sleep."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def slack() -> FakeSlack:
    return FakeSlack(token=SLACK_TOKEN, unknown_channels={"#nowhere"})


@pytest.fixture
def slack_server(slack: FakeSlack) -> Iterator[ServedApp]:
    served = slack.serve()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def slack_notifier(slack_server: ServedApp, sleeps: Sleeps) -> SlackNotifier:
    return SlackNotifier(Secret(SLACK_TOKEN), base_url=FakeSlack.api_url(slack_server), timeout=5,
                         pacer=ChannelPacer(sleep=sleeps), sleep=sleeps)


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp(username="mailer", password="smtp-pass-9876").start()
    try:
        yield server
    finally:
        server.stop()
