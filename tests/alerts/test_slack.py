"""The Slack notifier against the fake Slack Web API over real HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from alerts.slack import ChannelPacer, SlackNotifier, parse_card_ref
from alerts.slack_blocks import MAX_BLOCKS, MAX_SECTION_CHARS, MAX_TOTAL_CHARS, render_card, render_delta
from tests.alerts.conftest import Sleeps
from tests.alerts.support import NOW, SLACK_TOKEN
from watchdog.notify import Alert, DeliveryError, GroupMessage, Secret
from watchdog.simulators.fake_slack import FakeSlack
from watchdog.simulators.serve import ServedApp


def alert(n: int, *, severity: str = "warning", summary: str | None = None, **extra: Any) -> Alert:
    return Alert(fingerprint=f"fp{n}", integration="acme", check="stock_divergence", subject=f"sku:SKU-{n}",
                 severity=severity, owner="operations", summary=summary or f"SKU-{n}: Magento 5, Stokly 0",
                 first_seen=NOW - timedelta(hours=n), **extra)


def message(**fields: Any) -> GroupMessage:
    return GroupMessage(destination=fields.pop("destination", "#ops-alerts"), integration="acme",
                        check="stock_divergence", at=NOW, runbook="docs/runbooks/stock_divergence.md", **fields)


def test_the_first_message_posts_a_card(slack: FakeSlack, slack_notifier: SlackNotifier) -> None:
    a = alert(1, severity="critical")
    receipt = slack_notifier.send(message(opened=(a,), open=(a,)))

    [call] = slack.requests
    assert (call.method, call.auth, call.status, call.response["ok"]) == ("chat.postMessage", "ok", 200, True)
    assert call.params["channel"] == "#ops-alerts"
    assert call.params["link_names"] is False
    assert "1 open" in call.params["text"]
    assert call.params["blocks"][0]["type"] == "header"
    channel, ts = parse_card_ref(receipt.ref or "")
    assert (channel, ts) == (slack.channel_id("#ops-alerts"), call.response["ts"])


def test_a_later_message_updates_the_card_in_place_and_replies_in_its_thread(
        slack: FakeSlack, slack_notifier: SlackNotifier) -> None:
    a, b = alert(1), alert(2)
    first = slack_notifier.send(message(opened=(a,), open=(a,)))
    second = slack_notifier.send(message(opened=(b,), resolved=(a,), open=(b,), card_ref=first.ref))

    assert second.ref == first.ref
    assert [c.method for c in slack.requests] == ["chat.postMessage", "chat.update", "chat.postMessage"]
    card, reply = slack.posts()
    assert card.edits == 1
    assert "SKU-2" in json.dumps(card.blocks)
    assert "SKU-1" not in json.dumps(card.blocks)
    assert reply.thread_ts == card.ts
    assert not reply.broadcast
    assert "+1 new" in reply.text
    assert "1 resolved" in reply.text
    assert ":white_check_mark: ~sku:SKU-1~" in json.dumps(reply.blocks)


def test_a_refresh_updates_the_card_without_a_reply_and_a_reminder_is_broadcast(
        slack: FakeSlack, slack_notifier: SlackNotifier) -> None:
    a = alert(1)
    card = slack_notifier.send(message(opened=(a,), open=(a,)))
    slack_notifier.send(message(open=(a,), card_ref=card.ref))
    assert [c.method for c in slack.requests][1:] == ["chat.update"]

    slack_notifier.send(message(open=(a,), reminder=True, card_ref=card.ref))
    reply = slack.posts()[-1]
    assert reply.thread_ts is not None
    assert reply.broadcast
    assert "Reminder" in reply.text


def test_a_card_slack_no_longer_has_is_posted_again(slack: FakeSlack, slack_notifier: SlackNotifier) -> None:
    a = alert(1)
    slack_notifier.send(message(opened=(a,), open=(a,)))  # creates the channel
    gone = f"{slack.channel_id('#ops-alerts')}/1600000000.000001"
    receipt = slack_notifier.send(message(opened=(a,), open=(a,), card_ref=gone))
    assert slack.requests[-2].response["error"] == "message_not_found"
    assert receipt.ref != gone
    assert len(slack.posts()) == 2


def test_429_with_retry_after_is_waited_out_and_retried(slack: FakeSlack, slack_notifier: SlackNotifier,
                                                        sleeps: Sleeps) -> None:
    slack.fail("ratelimited", retry_after=3)
    slack_notifier.send(message(opened=(alert(1),), open=(alert(1),)))
    assert [c.status for c in slack.requests] == [429, 200]
    assert 3.0 in sleeps.calls


def test_429_asking_for_too_long_goes_back_to_the_core_as_transient(slack: FakeSlack,
                                                                    slack_notifier: SlackNotifier) -> None:
    slack.fail("ratelimited", retry_after=120)
    with pytest.raises(DeliveryError) as caught:
        slack_notifier.send(message(opened=(alert(1),), open=(alert(1),)))
    assert not caught.value.permanent
    assert caught.value.retry_after == 120
    assert caught.value.code == "ratelimited"
    assert len(slack.requests) == 1


def test_invalid_auth_is_permanent_and_never_shows_the_token(slack: FakeSlack, slack_server: ServedApp) -> None:
    wrong = "xoxb-wrong-token-4567"
    notifier = SlackNotifier(Secret(wrong), base_url=FakeSlack.api_url(slack_server), pacer=ChannelPacer(
        sleep=lambda s: None))
    with pytest.raises(DeliveryError) as caught:
        notifier.send(message(opened=(alert(1),), open=(alert(1),)))
    assert caught.value.permanent
    assert caught.value.code == "invalid_auth"
    assert wrong not in str(caught.value)
    assert wrong not in repr(notifier)
    assert slack.requests[0].auth == "invalid"


def test_channel_not_found_is_permanent(slack_notifier: SlackNotifier) -> None:
    with pytest.raises(DeliveryError) as caught:
        slack_notifier.send(message(destination="#nowhere", opened=(alert(1),), open=(alert(1),)))
    assert caught.value.permanent
    assert caught.value.code == "channel_not_found"


def test_at_most_one_call_per_second_per_channel(slack: FakeSlack, slack_server: ServedApp) -> None:
    sleeps = Sleeps()
    notifier = SlackNotifier(Secret(SLACK_TOKEN), base_url=FakeSlack.api_url(slack_server),
                             pacer=ChannelPacer(clock=lambda: 100.0, sleep=sleeps))
    card = notifier.send(message(opened=(alert(1),), open=(alert(1),)))
    assert sleeps.calls == []
    notifier.send(message(destination="#other", opened=(alert(1),), open=(alert(1),)))
    assert sleeps.calls == []
    notifier.send(message(opened=(alert(2),), open=(alert(1), alert(2)), card_ref=card.ref))  # update + reply
    assert sleeps.calls == [1.0, 1.0]


def _sections(blocks: list[dict[str, Any]]) -> list[str]:
    texts = [b["text"]["text"] for b in blocks if isinstance(b.get("text"), dict)]
    texts += [e["text"] for b in blocks for e in b.get("elements", [])]
    return texts


@pytest.mark.parametrize("summary_length", [40, 280])
def test_very_many_findings_stay_within_slack_limits(slack: FakeSlack, slack_notifier: SlackNotifier,
                                                     summary_length: int) -> None:
    many = tuple(alert(n, summary="x" * summary_length) for n in range(5000))
    m = message(opened=many, open=many)
    for payload in (render_card(m), render_delta(m)):
        texts = _sections(list(payload.blocks))
        assert len(payload.blocks) <= MAX_BLOCKS
        assert all(len(t) <= MAX_SECTION_CHARS for t in texts)
        assert sum(map(len, texts)) <= MAX_TOTAL_CHARS
        more = next(t for t in texts if t.startswith("+"))
        shown = sum(t.count("sku:SKU-") for t in texts)
        assert more.startswith(f"+{5000 - shown} more")
        assert shown > 10
        assert "watchdog findings list --integration acme --check stock_divergence" in more
        assert 0 < len(payload.text) <= 3000
    slack_notifier.send(m)
    assert slack.requests[-1].response["ok"] is True  # the fake refuses > 50 blocks or > 3,000 per section


HOSTILE = "<!channel> <@U024BE7LH> & <!subteam^S1|@ops> <https://evil.test|click me> @here @everyone"


def test_hostile_names_cannot_mention_link_or_broadcast(slack: FakeSlack, slack_notifier: SlackNotifier) -> None:
    a = Alert(fingerprint="fp", integration="acme", check="stock_divergence", subject=f"sku:{HOSTILE}",
              severity="critical", owner="operations", summary=f"Product {HOSTILE}", first_seen=NOW,
              links={"magento": "javascript:alert(1)", "stokly <!here>": "https://app.stok.ly/items/1?a=1&b=2"},
              acked_by="<!everyone>")
    first = slack_notifier.send(message(opened=(a,), open=(a,)))
    slack_notifier.send(message(resolved=(a,), open=(), card_ref=first.ref))

    sent = {c.seq: json.dumps(c.params["blocks"], ensure_ascii=False) + c.params["text"] for c in slack.requests}
    for text in sent.values():
        for forbidden in ("<!channel>", "<!here", "<!everyone>", "<@U", "<!subteam", "<https://evil", "javascript:",
                          "@here", "@everyone"):
            assert forbidden not in text
    card, _update, reply = sent.values()
    assert "&lt;!channel&gt; &lt;@U024BE7LH&gt; &amp;" in card
    assert "@\u2060here" in card
    assert "<https://app.stok.ly/items/1?a=1&amp;b=2|stokly &lt;!here&gt;>" in card
    assert "acked by &lt;!everyone&gt;" in card
    assert "&lt;!channel&gt;" in reply
    for call in slack.requests:
        mrkdwn = [o for b in call.params["blocks"] for o in [b.get("text"), *b.get("elements", [])]
                  if isinstance(o, dict) and o.get("type") == "mrkdwn"]
        assert mrkdwn
        assert all(o.get("verbatim") is True for o in mrkdwn)
