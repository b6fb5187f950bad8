"""The shared notifier test kit: every notifier through the same failure cases, against real servers.

Each notifier gets a ``Harness`` that knows how to make its own server fail in the
kit's terms (a 5xx, a rate limit, an unknown destination, bad credentials, a
server that repeats the secret, a server that is down). The cases then assert
the contract every notifier shares: transient failures say retry, permanent ones
say do not, and no secret ever appears in an error. A new notifier joins by
adding a harness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from alerts.email import EmailNotifier, SmtpSettings
from alerts.slack import ChannelPacer, SlackNotifier
from tests.alerts.support import NOW, SLACK_TOKEN
from watchdog.notify import (
    Alert,
    CheckCount,
    CoverageRow,
    DeliveryError,
    Figure,
    GroupMessage,
    ManagerDigest,
    Message,
    Notifier,
    Secret,
)
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.smtp import FakeSmtp

SMTP_USER, SMTP_PASSWORD = "mailer@acme.test", "smtp-pass-9876"
ALERT = Alert(fingerprint="fp", integration="acme", check="stock_divergence", subject="sku:A", severity="critical",
              owner="operations", summary="A: Magento 5, Stokly 0", first_seen=NOW - timedelta(hours=3))


def group_message(destination: str = "#ops-alerts") -> GroupMessage:
    return GroupMessage(destination=destination, integration="acme", check="stock_divergence", at=NOW,
                        opened=(ALERT,), open=(ALERT,))


def manager_digest(recipient: str = "manager@acme.test") -> ManagerDigest:
    return ManagerDigest(
        integration="acme", day=NOW.date(), generated_at=NOW, since=NOW - timedelta(hours=24), currency="GBP",
        timezone="Europe/London", sender="watchdog@acme.test", recipients=(recipient,),
        message_id="<watchdog-digest.acme.2026-11-26@acme.test>",
        figures=(Figure("orders_not_in_warehouse", "Orders not in the warehouse", 3, 1, "count", "missing_orders",
                        "operations"),),
        by_check=(CheckCount("stock_divergence", 1, 1, 0, 1),), new=(ALERT,), new_total=1, resolved=(),
        resolved_total=0, oldest=(ALERT,), open_total=1,
        coverage=(CoverageRow("stock_divergence", "ok", 10, 10, "ok", NOW, NOW),))


@dataclass
class Harness:
    """How to drive one notifier and its server through the kit's cases."""

    name: str
    secrets: tuple[str, ...]
    make: Callable[[bool], Notifier]  # good credentials or not
    message: Callable[[bool], Message]  # a known destination or not
    fail: Callable[[str], None]  # "server_error" | "ratelimited" | "echo_secret" | "unknown_destination"
    down: Callable[[], None]
    delivered: Callable[[], int]
    foreign: Message  # a message of a kind this notifier does not send
    cleanup: list[Callable[[], None]] = field(default_factory=list)


def _slack_harness() -> Harness:
    fake = FakeSlack(token=SLACK_TOKEN, unknown_channels={"#nowhere"})
    served = fake.serve()
    url = FakeSlack.api_url(served)

    def make(good: bool) -> Notifier:
        token = SLACK_TOKEN if good else "xoxb-wrong-token-0000"
        return SlackNotifier(Secret(token), base_url=url, timeout=5, pacer=ChannelPacer(sleep=lambda s: None),
                             sleep=lambda s: None)

    faults = {"server_error": lambda: fake.fail("unavailable"),
              "ratelimited": lambda: fake.fail("ratelimited", times=5, retry_after=0),
              "echo_secret": lambda: fake.fail("echo_token"),
              "unknown_destination": lambda: None}  # the channel "#nowhere" is unknown
    return Harness(
        name="slack", secrets=(SLACK_TOKEN, "xoxb-wrong-token-0000"), make=make,
        message=lambda known: group_message("#ops-alerts" if known else "#nowhere"),
        fail=lambda case: faults[case](), down=served.stop,
        delivered=lambda: sum(1 for c in fake.requests if c.response.get("ok")),
        foreign=manager_digest(), cleanup=[served.stop])


def _email_harness() -> Harness:
    server = FakeSmtp(username=SMTP_USER, password=SMTP_PASSWORD).start()

    def make(good: bool) -> Notifier:
        return EmailNotifier(SmtpSettings(host=server.host, port=server.port, starttls=False,
                                          username=Secret(SMTP_USER),
                                          password=Secret(SMTP_PASSWORD if good else "wrong-pass-1111"), timeout=5))

    faults = {"server_error": lambda: server.fail("server_error"), "ratelimited": lambda: server.fail("busy"),
              "echo_secret": lambda: server.fail("echo_secret"),
              "unknown_destination": lambda: server.fail("mailbox_unavailable")}
    return Harness(
        name="email", secrets=(SMTP_USER, SMTP_PASSWORD, "wrong-pass-1111"), make=make,
        message=lambda known: manager_digest() if known else replace(manager_digest(), recipients=("x@acme.test",)),
        fail=lambda case: faults[case](), down=server.stop, delivered=lambda: len(server.messages),
        foreign=group_message(), cleanup=[server.stop])


HARNESSES = {"slack": _slack_harness, "email": _email_harness}


@pytest.fixture(params=sorted(HARNESSES))
def kit(request: pytest.FixtureRequest) -> Iterator[Harness]:
    harness = HARNESSES[request.param]()
    try:
        yield harness
    finally:
        for stop in harness.cleanup:
            stop()


def _failure(harness: Harness, notifier: Notifier, message: Message) -> DeliveryError:
    before = harness.delivered()
    with pytest.raises(DeliveryError) as caught:
        notifier.send(message)
    error = caught.value
    shown = f"{error} {error!r} {error.args} {error.code}"
    for secret in harness.secrets:
        assert secret not in shown, f"{harness.name} leaked a secret in {shown!r}"
    assert harness.delivered() == before
    return error


def test_a_message_is_delivered(kit: Harness) -> None:
    kit.make(True).send(kit.message(True))
    assert kit.delivered() == 1


def test_a_server_error_is_transient(kit: Harness) -> None:
    kit.fail("server_error")
    assert not _failure(kit, kit.make(True), kit.message(True)).permanent


def test_rate_limiting_is_transient(kit: Harness) -> None:
    kit.fail("ratelimited")
    assert not _failure(kit, kit.make(True), kit.message(True)).permanent


def test_a_server_that_is_down_is_transient(kit: Harness) -> None:
    kit.down()
    assert not _failure(kit, kit.make(True), kit.message(True)).permanent


def test_bad_credentials_are_permanent(kit: Harness) -> None:
    assert _failure(kit, kit.make(False), kit.message(True)).permanent


def test_an_unknown_destination_is_permanent(kit: Harness) -> None:
    kit.fail("unknown_destination")
    assert _failure(kit, kit.make(True), kit.message(False)).permanent


def test_a_server_repeating_the_secret_never_gets_it_into_the_error(kit: Harness) -> None:
    kit.fail("echo_secret")
    assert not _failure(kit, kit.make(True), kit.message(True)).permanent


def test_a_message_of_another_kind_is_refused_permanently(kit: Harness) -> None:
    assert _failure(kit, kit.make(True), kit.foreign).permanent

