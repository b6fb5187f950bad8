"""Hostile text in names and identifiers reaches Slack and email escaped, never as markup.

A merchant whose people typed the worst they could: a Magento product (name and SKU) and a Stokly
item (SKU and id) carrying Slack control sequences (``<!channel>``, a user mention, a disguised
link), HTML (``<script>``, an ``onerror`` attribute), mrkdwn, a header injection, a right-to-left
override and a 3 kB string; a Stokly location named the same way; a customer whose names and
e-mail do too. The real path runs: both simulators over HTTP, snapshots, every check, the
dispatcher, slack-sdk against the fake Slack Web API, and the manager's e-mail digest over SMTP.

Then: no Slack text holds a raw ``<`` that is not one of our own links, every link's target is
one of our admin URLs, the hostile text did arrive (escaped); the e-mail's HTML, read as a
browser reads it, holds no tag, event attribute or link target from the data (the hostile text is
there, as text), its headers hold no injected header, and every part decodes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest

from bench.common import Served, integration_for
from watchdog.clients import open_clients
from watchdog.config import Config, EmailConfig, ScheduleConfig, SlackConfig
from watchdog.dispatch import Dispatcher
from watchdog.dispatch_rules import DispatchPolicy
from watchdog.engine import load_ledger_view, run_checks
from watchdog.notifiers import build_notifiers
from watchdog.secret import Secret
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.magento.specs import CustomerSpec, OrderItemSpec
from watchdog.simulators.merchant import Merchant, build_merchant
from watchdog.simulators.scenario import ScenarioSpec
from watchdog.simulators.smtp import FakeSmtp
from watchdog.snapshot import take_snapshots
from watchdog.store.db import Store

EVIL = ("<!channel> <!here|here> <@U0HOSTILE> <https://evil.example/login|Reset your password> "
        "<script>alert(1)</script><img src=x onerror=alert(2)> *bold* _it_ ~gone~ `code` &amp; "
        "\u202eevil\u202c\r\nBcc: victim@example.com")
LONG = "Ω" * 3000
TOKEN = "xoxb-hostile-test-token"
ROUTES = {"operations": "#ops-alerts", "finance": "#finance-alerts", "ecommerce": "#ecommerce-alerts",
          "platform": "#platform-alerts"}
RAW = ("<!channel>", "<!here", "<@U0HOSTILE>", "<https://evil.example", "<script>", "<img")


def hostile_merchant() -> Merchant:
    now = datetime.now(UTC)
    m = build_merchant(ScenarioSpec(simple_skus=12, configurables=0, bundles=0, orders=6, injections=()), now)
    m.clock.set(now - timedelta(hours=2))
    m.magento.add_simple("EVIL-<!channel>&<b>", f"{EVIL} {LONG}")  # Magento only: a sku_mismatch
    item = m.stokly.add_item("STOKLY-<@U0HOSTILE>", EVIL, item_id="item-<!channel>|x&y")
    m.stokly.add_listing(m.channel_id, item)  # Stokly only: a sku_mismatch with a link to the item
    elsewhere = m.stokly.add_location(f"Shed {EVIL}")
    m.stokly.set_stock(m.item_ids[m.simple_skus[0]], elsewhere, 5)  # unlocated_stock names the location
    customer = CustomerSpec(email="evil+<script>@example.com", firstname=EVIL, lastname=LONG)
    m.magento.place_order([OrderItemSpec(m.simple_skus[1], 1)], customer=customer)  # never imported
    m.clock.set(now)
    m.clock.follow_real_time()
    return m


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[dict[str, Any]], list[EmailMessage]]]:
    """Every Slack request's params and every e-mail, after one check run and its deliveries."""
    from watchdog.store.db import open_store, upgrade

    merchant = hostile_merchant()
    slack, smtp = FakeSlack(token=TOKEN), FakeSmtp().start()
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'watchdog.db'}")
    upgrade(store.engine)
    try:
        with Served(merchant) as served:
            server = slack.serve()
            try:
                config = _config(served.urls, FakeSlack.api_url(server), smtp.port)
                _watch(config, store)
            finally:
                server.stop()
        yield [call.as_json() for call in slack.requests], [mail.parsed() for mail in smtp.messages]
    finally:
        smtp.stop()
        store.dispose()


def _config(urls: tuple[str, str], slack_url: str, smtp_port: int) -> Config:
    settle = {"settle": "1s"}
    integration = integration_for(*urls, routes=ROUTES, name="evil-shop",
                                  checks={"missing_orders": settle, "stock_divergence": settle})
    return Config(source="hostile", integrations=(integration,),
                  slack=SlackConfig(token=Secret(TOKEN), base_url=slack_url),
                  email=EmailConfig(smtp_host="127.0.0.1", smtp_port=smtp_port, starttls=False,
                                    sender="watchdog@shop.test", to=("manager@shop.test",)),
                  schedule=ScheduleConfig(email_digest="00:00", slack_digest=("00:00",)))


def _watch(config: Config, store: Store) -> None:
    integration, now = config.integrations[0], datetime.now(UTC)

    async def snapshots() -> Any:
        async with open_clients(integration) as clients:
            return await take_snapshots(integration, clients.magento, clients.stokly, now)

    magento, stokly = asyncio.run(snapshots())
    summary = run_checks(store, integration, magento, stokly, load_ledger_view(store, integration.name, now), now)
    assert {"sku_mismatch", "unlocated_stock", "missing_orders"} <= {c for c, s in summary.checks.items() if s.open}
    dispatcher = Dispatcher(store, config, build_notifiers(config),
                            policy=DispatchPolicy(group_wait=timedelta(0), min_severity="info"))
    later = now + timedelta(minutes=1)
    assert dispatcher.dispatch_once(later).messages > 0
    dispatcher.send_digests(later, "slack")
    dispatcher.send_digests(later, "email")


def texts(value: Any) -> Iterator[str]:
    """Every string a Slack payload shows: ``text`` fields at any depth (blocks included)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            elif key == "blocks" and isinstance(item, str):
                yield from texts(json.loads(item))
            else:
                yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


LINK = re.compile(r"<([^<>|]*)\|[^<>]*>")


class Page(HTMLParser):
    """The tags, attribute names, link targets and text of an HTML document, as a browser reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text += data


def test_slack_shows_the_hostile_text_only_escaped(delivered: tuple[list[dict[str, Any]], list[Any]]) -> None:
    requests, _ = delivered
    shown = [t for call in requests for t in texts(call["params"])]
    assert shown, "Slack received messages"
    joined = "\n".join(shown)
    assert "&lt;!channel&gt;" in joined, "the hostile text arrived, escaped"
    assert "&lt;@U0HOSTILE&gt;" in joined
    for text in shown:
        for raw in RAW:
            assert raw not in text, f"{raw!r} reached Slack as markup: {text[:300]!r}"
        for target in LINK.findall(text):  # our own links only: the admin pages of both systems
            assert target.startswith(("http://127.0.0.1:", "https://")), text[:300]
            assert "evil" not in target, text[:300]
        assert "<" not in LINK.sub("", text), f"a raw '<' outside our links: {text[:300]!r}"


def test_email_html_holds_no_markup_from_the_data(delivered: tuple[list[dict[str, Any]], list[EmailMessage]]) -> None:
    _, mails = delivered
    assert mails, "the manager's e-mail was sent"
    for mail in mails:
        assert "victim@example.com" not in str(mail.get("Bcc", ""))
        assert mail.get_all("Bcc") is None
        for name, value in mail.items():
            assert "\n" not in value.replace("\n ", "").replace("\n\t", ""), name  # no header smuggled in
            assert "victim" not in value, name
        html = mail.get_body(("html",))
        plain = mail.get_body(("plain",))
        assert html is not None
        assert plain is not None
        page = Page()
        page.feed(html.get_content())
        assert page.tags
        assert not page.tags & {"script", "img", "iframe", "object", "form", "base"}, page.tags
        assert not [a for a in page.attributes if a.startswith("on")], page.attributes
        assert all(h.startswith(("http://127.0.0.1:", "https://")) and "evil" not in h for h in page.hrefs)
        assert "<script>alert(1)</script>" in page.text, "the text arrived, as text"
        assert "<!channel>" in page.text
        assert isinstance(plain.get_content(), str)


def test_long_and_foreign_text_is_clipped_and_delivered(delivered: tuple[list[dict[str, Any]],
                                                                          list[EmailMessage]]) -> None:
    """3 kB of a non-ASCII letter in a name: Slack accepted every message (no block over its limits)."""
    requests, mails = delivered
    refused = [(c["method"], c["response"].get("error")) for c in requests if not c["response"].get("ok")]
    assert refused == []
    assert any("Ω" in t for c in requests for t in texts(c["params"]))
    assert any("Ω" in (m.get_body(("plain",)) or m).get_content() for m in mails)
