"""Slack messages as Block Kit payloads: the group card, its thread deltas and the team digest.

Blocks are built with ``slack_sdk.models`` (whose ``to_dict`` validates each block)
and kept inside Slack's limits: at most 50 blocks, 3,000 characters per section and
about 12,000 in all (``MAX_*``). What does not fit is summarised as "+N more" with
the ``watchdog findings list`` command that shows everything. Every payload has a
plain ``text`` fallback for notifications and screen readers.

Untrusted text (subjects, summaries, names, link titles) goes through ``escape``:
``&``, ``<`` and ``>`` become entities, so nobody can write ``<!channel>``,
``<!here>``, ``<@U123>`` or a disguised link through a product or customer name;
bare ``@channel``/``@here``/``@everyone`` are broken with a word joiner, and every
mrkdwn object is ``verbatim`` so Slack does not auto-link or auto-mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from alerts.digest import age, coverage_label, coverage_line, figure_line, local_time
from watchdog.notify import Alert, GroupMessage, TeamDigest, findings_command, severity_rank

__all__ = [
    "MAX_BLOCKS",
    "MAX_SECTION_CHARS",
    "MAX_TOTAL_CHARS",
    "SlackPayload",
    "escape",
    "render_card",
    "render_delta",
    "render_team_digest",
]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_TOTAL_CHARS = 12000
MAX_FALLBACK_CHARS = 3000
MAX_LINE_CHARS = 300  # raw untrusted text per line, before escaping (which may grow it up to 5x)
MAX_LINE_BLOCK_CHARS = 2000  # a whole rendered line, links included
MAX_LINKS = 3
ICONS = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
SAFE_URL = re.compile(r"^https?://[^\s<>|]{1,500}$")


@dataclass(frozen=True)
class SlackPayload:
    """What ``chat.postMessage``/``chat.update`` receive: a text fallback and block dicts."""

    text: str
    blocks: tuple[dict[str, Any], ...]


def escape(text: str) -> str:
    """``text`` safe inside mrkdwn: control characters escaped, broadcast words defused."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BROADCAST.sub(lambda m: "@\u2060" + m.group(1), text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Builder:
    """Collects blocks within the limits, keeping room for the closing blocks."""

    def __init__(self, reserve_blocks: int = 2, reserve_chars: int = 500) -> None:
        self.blocks: list[Block] = []
        self.chars = 0
        self.reserve_blocks = reserve_blocks
        self.reserve_chars = reserve_chars

    def header(self, text: str) -> None:
        text = clip(text, 150)
        self._add(HeaderBlock(text=PlainTextObject(text=text, emoji=True)), len(text))

    def section(self, text: str) -> None:
        text = clip(text, MAX_SECTION_CHARS)
        self._add(SectionBlock(text=MarkdownTextObject(text=text, verbatim=True)), len(text))

    def context(self, text: str) -> None:
        text = clip(text, 2000)
        self._add(ContextBlock(elements=[MarkdownTextObject(text=text, verbatim=True)]), len(text))

    def _add(self, block: Block, chars: int) -> None:
        self.blocks.append(block)
        self.chars += chars

    def lines(self, lines: Sequence[str]) -> int:
        """Pack ``lines`` into sections while they fit; returns how many did not."""
        chunk: list[str] = []
        size = 0
        for done, line in enumerate(lines):
            line = clip(line, MAX_LINE_BLOCK_CHARS)
            needed = len(line) + (1 if chunk else 0)
            if chunk and size + needed > MAX_SECTION_CHARS:
                self.section("\n".join(chunk))
                chunk, size, needed = [], 0, len(line)
            if not self._fits(len(self.blocks) + 1, self.chars + size + needed):
                if chunk:
                    self.section("\n".join(chunk))
                return len(lines) - done
            chunk.append(line)
            size += needed
        if chunk:
            self.section("\n".join(chunk))
        return 0

    def _fits(self, blocks: int, chars: int) -> bool:
        return blocks <= MAX_BLOCKS - self.reserve_blocks and chars <= MAX_TOTAL_CHARS - self.reserve_chars

    def payload(self, text: str) -> SlackPayload:
        return SlackPayload(text=clip(text, MAX_FALLBACK_CHARS), blocks=tuple(b.to_dict() for b in self.blocks))


def _links(alert: Alert) -> str:
    safe = [f"<{url.replace('&', '&amp;')}|{escape(clip(name, 40))}>" for name, url in sorted(alert.links.items())
            if SAFE_URL.match(url)][:MAX_LINKS]
    return f" · {' · '.join(safe)}" if safe else ""


def finding_line(alert: Alert, now: datetime, *, icon: str | None = None) -> str:
    """One finding as a mrkdwn line, escaped: icon, subject, summary, age, links, ack."""
    acked = f" _(acked by {escape(clip(alert.acked_by, 60))})_" if alert.acked_by else ""
    mark = icon or ICONS.get(alert.severity, ":white_circle:")
    return (f"{mark} *{escape(clip(alert.subject, 120))}* — {escape(clip(alert.summary, MAX_LINE_CHARS))}"
            f" _({age(alert.first_seen, now)})_{_links(alert)}{acked}")


def resolved_line(alert: Alert) -> str:
    return f":white_check_mark: ~{escape(clip(alert.subject, 120))}~ — {escape(clip(alert.summary, MAX_LINE_CHARS))}"


def _more(omitted: int, integration: str, check: str | None) -> str:
    return f"+{omitted} more — run `{escape(findings_command(integration, check))}`"


def _counts(alerts: Iterable[Alert]) -> str:
    by: dict[str, int] = {}
    for alert in alerts:
        by[alert.severity] = by.get(alert.severity, 0) + 1
    return ", ".join(f"{by[s]} {s}" for s in sorted(by, key=severity_rank, reverse=True))


def _delta_words(m: GroupMessage) -> str:
    parts = [f"+{len(m.opened)} new" if m.opened else "", f"{len(m.escalated)} escalated" if m.escalated else "",
             f"{len(m.resolved)} resolved" if m.resolved else ""]
    still = len(m.open) - len(m.opened)
    parts.append(f"{still} still open" if still else "")
    return " · ".join(p for p in parts if p)


def _title(m: GroupMessage) -> str:
    if not m.open:
        return f"✅ {m.check} · {m.integration}"
    worst = max(severity_rank(a.severity) for a in m.open)
    return f"{'🚨' if worst >= 2 else '⚠️'} {m.check} · {m.integration}"


def render_card(m: GroupMessage) -> SlackPayload:
    """The group's card: what is open now, most severe and oldest first."""
    b = _Builder()
    b.header(_title(m))
    status = f"*{len(m.open)} open* ({_counts(m.open)})" if m.open else "*All clear* — every finding is resolved"
    delta = _delta_words(m)
    b.section(f"{status}{' · latest: ' + delta if delta else ''}")
    omitted = b.lines([finding_line(a, m.at) for a in m.open])
    if omitted:
        b.section(_more(omitted, m.integration, m.check))
    runbook = f"Runbook: `{escape(m.runbook)}` · " if m.runbook else ""
    b.context(f"{runbook}updated {local_time(m.at, m.timezone)} ({escape(m.timezone)})")
    text = f"{m.check} on {m.integration}: {len(m.open)} open" + (f" ({delta})" if delta else "")
    return b.payload(escape(text))


def render_delta(m: GroupMessage) -> SlackPayload:
    """The thread reply: only what changed (+new, escalated, resolved, still open) or a reminder."""
    b = _Builder()
    if m.reminder and not (m.opened or m.escalated or m.resolved):
        oldest = min((a.first_seen for a in m.open), default=m.at)
        words = f"{len(m.open)} still open, the oldest for {age(oldest, m.at)}"
        b.section(f"*Reminder:* {words}")
        words = f"Reminder: {words}"
        lines = [finding_line(a, m.at) for a in m.open]
    else:
        words = _delta_words(m)
        b.section(f"*{words}*")
        lines = ([finding_line(a, m.at, icon=":new:") for a in m.opened]
                 + [finding_line(a, m.at, icon=":arrow_up:") for a in m.escalated]
                 + [resolved_line(a) for a in m.resolved])
    omitted = b.lines(lines)
    if omitted:
        b.section(_more(omitted, m.integration, m.check))
    return b.payload(escape(f"{m.check} on {m.integration}: {words}"))


def render_team_digest(d: TeamDigest) -> SlackPayload:
    """The team's digest: figures with trend, open by check, NOT CHECKED checks, the oldest items."""
    b = _Builder()
    b.header(f"Digest · {d.team} · {d.integration}")
    b.section(f"*{d.open_total} open* for {escape(d.team)} · since {local_time(d.since, d.timezone)}")
    lines = []
    for figure in d.figures:
        line = figure_line(figure, d.currency, against="the last digest")
        lines.append(f"*{escape(line.label)}:* {escape(line.value)} _({escape(line.trend)})_")
    lines += [f"`{c.check}`: {c.open} open (+{c.new} new, {c.resolved} resolved)" for c in d.by_check]
    lines += [f":warning: `{r.check}` *{coverage_label(r.status)}*: {escape(coverage_line(r, d.timezone))}"
              for r in d.coverage if r.status != "ok"]
    if d.oldest:
        lines.append("*Oldest open*")
        lines += [finding_line(a, d.generated_at) for a in d.oldest]
    omitted = b.lines(lines)
    if omitted:
        b.section(_more(omitted, d.integration, None))
    b.context(f"Slack digest {escape(d.slot)} ({escape(d.timezone)})")
    return b.payload(escape(f"Digest for {d.team} on {d.integration}: {d.open_total} open"))
