"""A doctor run as text (one line per check), as a JSON document, or as a self-contained HTML page.

None of these reads a secret: every string comes from a ``Report``, and the command masks the
rendered output with the configured secrets once more before it is printed or written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from watchdog.doctor.verdicts import Check, FieldTally, Report, Verdict, worst

__all__ = ["overall", "render_html", "render_json", "render_text"]

TEMPLATES = Path(__file__).parent / "templates"
ENV = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True,
                  lstrip_blocks=True, autoescape=select_autoescape(enabled_extensions=("html.j2",)))
COLUMNS = ("route", "field", "type", "evidence", "req", "seen", "present", "absent", "other type", "other name nearby")


def overall(reports: Sequence[Report]) -> Verdict:
    """The worst verdict of every report."""
    return worst([r.verdict for r in reports])


def _line(check: Check) -> str:
    text = f"{check.verdict.value.upper():<4}  {check.system:<7}  {check.area:<11}  {check.what}: {check.detail}"
    return f"{text}  | fix: {check.fix}" if check.fix and check.verdict is not Verdict.PASS else text


def _summary(report: Report) -> str:
    counts = ", ".join(f"{report.count(v)} {v.value}" for v in Verdict)
    return f"{report.integration}: {counts} -> {report.verdict.value.upper()}"


def _nearby(tally: FieldTally) -> str:
    return ", ".join(f"{k} ({n})" for k, n in tally.nearby) or "-"


def _row(t: FieldTally) -> tuple[str, ...]:
    other = f"{t.other_type} ({', '.join(t.other_types)})" if t.other_type else "0"
    return (t.route, t.path, t.type, t.evidence, "yes" if t.required else "-", str(t.seen), str(t.present),
            str(t.absent), other, _nearby(t))


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _calibration_text(report: Report) -> list[str]:
    if not report.calibration:
        return []
    head = f"shape calibration of {report.integration} (sampled Stokly records, per field of READ_SHAPES):"
    return ["", head, *_table([COLUMNS, *[_row(t) for t in report.calibration]])]


def render_text(reports: Sequence[Report]) -> str:
    """One line per check (verdict, system, area, what: detail | fix), a summary, then the calibration table."""
    lines: list[str] = []
    for report in reports:
        lines += [f"{report.integration}: Magento {report.magento_url}, Stokly {report.stokly_url}"]
        lines += [_line(c) for c in report.checks] + [_summary(report)] + _calibration_text(report) + [""]
    return "\n".join(lines)


def _report_json(report: Report) -> dict[str, Any]:
    return {"integration": report.integration, "magento_url": report.magento_url, "stokly_url": report.stokly_url,
            "verdict": report.verdict.value, "counts": {v.value: report.count(v) for v in Verdict},
            "checks": [dataclasses.asdict(c) for c in report.checks],
            "sampled": dict(report.sampled),
            "calibration": [{**dataclasses.asdict(t), "nearby": dict(t.nearby)} for t in report.calibration]}


def render_json(reports: Sequence[Report], generated_at: datetime) -> str:
    """The whole run as one JSON document."""
    return json.dumps({"verdict": overall(reports).value, "generated_at": generated_at.isoformat(),
                       "integrations": [_report_json(r) for r in reports]}, indent=2, default=str)


def render_html(reports: Sequence[Report], generated_at: datetime) -> str:
    """A self-contained page (inline CSS, no external asset) a merchant can be sent."""
    return ENV.get_template("doctor.html.j2").render(
        reports=reports, verdict=overall(reports).value, generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        columns=COLUMNS, rows={r.integration: [_row(t) for t in r.calibration] for r in reports},
        statuses={r.integration: {v.value: r.count(v) for v in Verdict} for r in reports})
