"""The Slack notifier: group cards updated in place, deltas as thread replies, team digests.

``SlackNotifier(token, base_url=..., pacer=..., sleep=...)`` talks to the Slack Web API
with slack-sdk's ``WebClient`` (a bot token with ``chat:write``; ``base_url`` points
it at a local fake in tests and in the demo).

- ``GroupMessage`` without a card: ``chat.postMessage`` posts the card; the Receipt's
  ``ref`` is ``"<channel id>/<ts>"``. With a card: ``chat.update`` rewrites it in
  place, then (if something changed) ``chat.postMessage`` with ``thread_ts`` posts
  the delta as a thread reply (a reminder is also broadcast to the channel). A
  card that Slack no longer has (deleted, too old to edit) is posted afresh.
- ``TeamDigest``: one ``chat.postMessage``.

Pacing and retries: at most one call per second per channel (``ChannelPacer``),
and ``RateLimitRetry`` (slack-sdk's ``RateLimitErrorRetryHandler`` with an
injectable sleep) absorbs 429s that ask for at most ``max_retry_after`` seconds;
anything else goes back to the core as ``DeliveryError``:

- transient: HTTP 429 and 5xx, ``ratelimited``/``internal_error``/``service_unavailable``,
  connection refused or reset, timeouts;
- permanent: ``invalid_auth``, ``token_revoked``, ``channel_not_found``, ``not_in_channel``,
  ``is_archived``, ``missing_scope`` and every other error Slack names, HTTP 4xx.

The token never appears in an error, a log line or a repr.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import threading
import time
import urllib.error
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from alerts.slack_blocks import SlackPayload, render_card, render_delta, render_team_digest
from watchdog.notify import DeliveryError, GroupMessage, Message, Receipt, Secret, TeamDigest, redact

__all__ = ["ChannelPacer", "RateLimitRetry", "SlackNotifier", "parse_card_ref"]

TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout", "timeout"})
GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class ChannelPacer:
    """At most one call per ``interval`` seconds per channel (Slack: about 1 message/s/channel)."""

    def __init__(self, interval: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Sleep until ``channel`` may take another call, then count this one."""
        with self._lock:
            last = self._last.get(channel)
            if last is not None:
                gap = self.clock() - last
                if gap < self.interval:
                    self.sleep(self.interval - gap)
            self._last[channel] = self.clock()


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


class RateLimitRetry(RateLimitErrorRetryHandler):
    """slack-sdk's 429 retry handler, with an injectable sleep and a ceiling on the wait.

    A 429 asking for more than ``max_wait`` seconds is not retried here: the core
    reschedules the delivery instead of blocking the dispatcher.
    """

    def __init__(self, max_retry_count: int = 2, *, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response.headers)
        return wait is None or wait <= self.max_wait

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        wait = _retry_after(response.headers) if response is not None else None
        state.next_attempt_requested = True
        self.sleep(1.0 if wait is None else wait)
        state.increment_current_attempt()


def parse_card_ref(ref: str) -> tuple[str, str]:
    """``(channel id, ts)`` from a card reference ``"C123/1700000000.000100"``. Raises ValueError."""
    channel, sep, ts = ref.partition("/")
    if not sep or not channel or not ts:
        raise ValueError(f"not a Slack card reference: {ref!r}")
    return channel, ts


class _CardGone(Exception):
    """The card can no longer be updated; post a new one."""


_LOGGERS = itertools.count(1)


class _MaskToken(logging.Filter):
    """Rewrites each record slack-sdk logs so that the token is not in it (an answer it cannot
    decode is logged whole, and a hostile or broken server may echo the request's token)."""

    def __init__(self, token: Secret) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), [self._token]), None
        return True


def _sdk_logger(token: Secret) -> logging.Logger:
    """The logger one ``WebClient`` writes to: slack-sdk's messages, with the token masked."""
    logger = logging.getLogger(f"alerts.slack.sdk.{next(_LOGGERS)}")
    logger.addFilter(_MaskToken(token))
    return logger


class SlackNotifier:
    """Delivers group cards, thread deltas and team digests to Slack."""

    kind = "slack"

    def __init__(self, token: Secret, *, base_url: str = "https://slack.com/api/", timeout: float = 10.0,
                 pacer: ChannelPacer | None = None, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._token = token
        self.pacer = pacer or ChannelPacer(sleep=sleep)
        self.client = WebClient(token=token.reveal(), base_url=base_url, timeout=int(max(1, timeout)),
                                logger=_sdk_logger(token), retry_handlers=[
                                    ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=(
                                        FixedValueRetryIntervalCalculator(0.2))),
                                    RateLimitRetry(max_retry_count=2, max_wait=max_retry_after, sleep=sleep),
                                ])

    def __repr__(self) -> str:
        return f"SlackNotifier(base_url={self.client.base_url!r})"

    def send(self, message: Message) -> Receipt:
        """Post or update for ``message``. Returns the card's Receipt; raises DeliveryError."""
        if isinstance(message, GroupMessage):
            return self._send_group(message)
        if isinstance(message, TeamDigest):
            return Receipt(self._post(message.destination, render_team_digest(message)))
        raise DeliveryError(f"the Slack notifier cannot send a {type(message).__name__}", permanent=True,
                            code="unsupported")

    def _send_group(self, m: GroupMessage) -> Receipt:
        card = render_card(m)
        if m.card_ref is None:
            return Receipt(self._post(m.destination, card))
        try:
            channel_id, ts = parse_card_ref(m.card_ref)
            self._call("chat.update", m.destination, channel=channel_id, ts=ts, text=card.text,
                       blocks=list(card.blocks))
        except (_CardGone, ValueError):
            return Receipt(self._post(m.destination, card))
        if m.has_delta:
            self._post(m.destination, render_delta(m), thread_ts=ts, broadcast=m.reminder)
        return Receipt(m.card_ref)

    def _post(self, destination: str, payload: SlackPayload, *, thread_ts: str | None = None,
              broadcast: bool = False) -> str:
        args: dict[str, Any] = {"channel": destination, "text": payload.text, "blocks": list(payload.blocks),
                                "unfurl_links": False, "unfurl_media": False, "link_names": False}
        if thread_ts is not None:
            args.update(thread_ts=thread_ts, reply_broadcast=broadcast)
        data = self._call("chat.postMessage", destination, **args)
        return f"{data.get('channel', destination)}/{data.get('ts', '')}"

    def _call(self, method: str, pace_key: str, **args: Any) -> dict[str, Any]:
        self.pacer.wait(pace_key)
        try:
            response = self.client.api_call(method, json=args)
        except SlackApiError as exc:
            raise self._api_error(method, exc) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise DeliveryError(self._clean(f"Slack {method} unreachable: {type(exc).__name__}: {exc}"),
                                permanent=False, code="connection") from None
        except SlackClientError as exc:
            raise DeliveryError(self._clean(f"Slack {method} request refused: {exc}"), permanent=True,
                                code="client") from None
        data = response.data
        return data if isinstance(data, dict) else {}

    def _api_error(self, method: str, exc: SlackApiError) -> Exception:
        status = int(exc.response.status_code)
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"http_{status}")
        text = self._clean(f"Slack {method} failed: {error} (HTTP {status})")[:300]
        if status == 429:
            return DeliveryError(text, permanent=False, code="ratelimited",
                                 retry_after=_retry_after(exc.response.headers or {}))
        if status >= 500 or error in TRANSIENT_ERRORS:
            return DeliveryError(text, permanent=False, code=error if error in TRANSIENT_ERRORS else f"http_{status}")
        if method == "chat.update" and error in GONE_ERRORS:
            return _CardGone(error)
        return DeliveryError(text, permanent=True, code=error[:40])

    def _clean(self, text: str) -> str:
        return redact(text, [self._token])
