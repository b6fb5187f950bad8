"""What a digest says, from plain data: numbers, money, trends, ages and coverage in words.

Both the manager email (``alerts.email``) and the Slack team digest
(``alerts.slack_blocks``) word their numbers here, so they never disagree. Every
function is pure: data in, text out. The returned text is NOT escaped for any
markup; the renderer escapes it (jinja2 autoescape for HTML, ``mrkdwn`` for Slack).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from watchdog.notify import Alert, CoverageRow, Figure, ManagerDigest, Measure

__all__ = [
    "FigureLine",
    "age",
    "alert_line",
    "coverage_label",
    "coverage_line",
    "figure_line",
    "local_time",
    "money",
    "number",
    "subject",
]

CENT = Decimal("0.01")
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
Direction = Literal["worse", "better", "same", "new"]


def money(value: Measure, currency: str) -> str:
    """``value`` in ``currency`` with two decimals and thousands separators: "£1,234.50", "PLN 12.00"."""
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency} {digits}"


def number(value: Measure) -> str:
    """A count or quantity without exponent or needless decimals: "1,204", "2.5"."""
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount.normalize():,f}"


def _value(figure: Figure, value: Measure, currency: str) -> str:
    return money(value, currency) if figure.unit == "money" else number(value)


@dataclass(frozen=True)
class FigureLine:
    """A headline number in words, with its trend against the previous day."""

    label: str
    value: str
    trend: str
    direction: Direction


def figure_line(figure: Figure, currency: str, *, against: str = "yesterday") -> FigureLine:
    """The figure's value and trend ("up 3 since yesterday"); higher is always worse for our figures."""
    value = _value(figure, figure.value, currency)
    if figure.previous is None:
        return FigureLine(figure.label, value, "no earlier figure", "new")
    delta = Decimal(figure.value) - Decimal(figure.previous)
    if delta == 0:
        return FigureLine(figure.label, value, f"same as {against}", "same")
    amount = _value(figure, abs(delta), currency)
    if delta > 0:
        return FigureLine(figure.label, value, f"▲ up {amount} since {against}", "worse")
    return FigureLine(figure.label, value, f"▼ down {amount} since {against}", "better")


def local_time(moment: datetime, timezone: str, *, with_date: bool = True) -> str:
    """``moment`` on the integration's wall clock: "26 Nov 07:55" (or "07:55")."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.strftime("%d %b %H:%M") if with_date else local.strftime("%H:%M")


def age(since: datetime, now: datetime) -> str:
    """How long ago ``since`` was, coarsely: "3 d 4 h", "5 h 10 min", "12 min"."""
    span = max(now - since, timedelta(0))
    days, rest = divmod(int(span.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def coverage_label(status: str) -> str:
    """The status word of a coverage row: OK, GAPS or NOT CHECKED."""
    return {"ok": "OK", "gaps": "GAPS", "not_checked": "NOT CHECKED"}.get(status, status.upper())


def coverage_line(row: CoverageRow, timezone: str) -> str:
    """How a check ran, in words, after its label: "12 of 12 runs ok", "last run failed at 07:55 (...)"."""
    runs = f"{row.ok_runs} of {row.runs} runs ok"
    last_ok = f"last success {local_time(row.last_ok_at, timezone)}" if row.last_ok_at else "no success on record"
    if row.status == "ok":
        return runs
    if row.status == "gaps":
        return f"{runs}; {last_ok}"
    if row.last_outcome is None:
        return f"{row.reason or 'no run in the period'}; {last_ok}"
    when = local_time(row.last_run_at, timezone) if row.last_run_at else "?"
    reason = f" ({row.reason})" if row.reason else ""
    return f"last run {row.last_outcome} at {when}{reason}; {last_ok}"


def alert_line(alert: Alert, now: datetime) -> str:
    """One finding in words: "sku:ABC-1: <summary> (open 3 d 4 h, operations)"."""
    acked = f", acked by {alert.acked_by}" if alert.acked_by else ""
    return f"{alert.subject}: {alert.summary} (open {age(alert.first_seen, now)}, {alert.owner}{acked})"


def subject(digest: ManagerDigest) -> str:
    """The email subject: the integration, the day and the two numbers a manager scans for."""
    open_part = f"{digest.open_total} open" if digest.open_total else "all clear"
    not_checked = sum(1 for row in digest.coverage if row.status == "not_checked")
    gaps = f", {not_checked} check(s) NOT CHECKED" if not_checked else ""
    return (f"[{digest.integration}] Watchdog daily digest {digest.day.isoformat()}: {open_part}, "
            f"{digest.new_total} new, {digest.resolved_total} resolved{gaps}")
