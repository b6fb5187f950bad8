"""``python -m bench [--quick]``: every benchmark, each printing its table, then one line of figures.

The last line starts ``P1_floor_ratio=`` and carries every figure as ``NAME=value``:

- P1 reconcile (``bench.reconcile``): ``P1_floor_ratio`` (goal <= 1.5), ``P1_speedup`` (>= 30),
  ``P1_rss_mb`` (<= 250);
- P2 sync throughput (``bench.sync_throughput``): ``P2_rate_share`` (>= 0.9), with its 429s and
  duplicates (goal 0);
- P3 detection (``bench.detection``): ``P3_p95_s`` (<= ``P3_goal_s``);
- P4 scrape (``bench.scrape``): ``P4_scrape_ms`` (<= 20);
- P5 checks (``bench.checks``): ``P5_check_s`` (<= 1).

``--quick`` runs smaller sizes (within about three minutes on two cores); the full run uses the
sizes of the issue. A goal line follows the figures. The machines are shared: compare ratios and
medians from one run, not absolute times across runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from bench import checks, detection, reconcile, scrape, sync_throughput
from bench.common import figure_line, table


def _scrape(quick: bool) -> dict[str, float]:
    """P4, with the table ``python -m bench.scrape`` prints (its ``run`` prints nothing)."""
    results = scrape._run(quick)
    rows = [(n, r["warm_ms"], r["cold_ms"], int(r["bytes"])) for n, r in results.items()]
    print(table("P4 scrape: /metrics with open findings in SQLite (goal: median <= 20 ms with 100,000)",
                ("open findings", "median ms (cached)", "first after a change ms", "exposition bytes"), rows))
    return {"P4_scrape_ms": results[scrape.FINDINGS]["warm_ms"]}


def _checks(quick: bool) -> dict[str, float]:
    """P5, with the table ``python -m bench.checks`` prints (its ``run`` prints nothing)."""
    figures = checks.run(quick)
    print(table("P5 checks: CPU seconds of every check (best of runs; goal: all <= 1 s for 100,000 SKUs / "
                "50,000 orders)", ("figure", "value"), [(n, v) for n, v in figures.items()]))
    return figures


BENCHMARKS: tuple[tuple[str, Callable[[bool], dict[str, float]]], ...] = (
    ("P1 reconcile", reconcile.run),
    ("P2 sync throughput", sync_throughput.run),
    ("P3 detection", detection.run),
    ("P4 scrape", _scrape),
    ("P5 checks", _checks),
)
#: name -> (goal text, whether the figure meets it)
GOALS: dict[str, tuple[str, Callable[[dict[str, float]], bool]]] = {
    "P1_floor_ratio": ("<= 1.5", lambda f: f["P1_floor_ratio"] <= 1.5),
    "P1_speedup": (">= 30", lambda f: f["P1_speedup"] >= 30),
    "P1_rss_mb": ("<= 250", lambda f: f["P1_rss_mb"] <= 250),
    "P2_rate_share": (">= 0.9, no 429, no duplicate, none lost",
                      lambda f: f["P2_rate_share"] >= 0.9 and not f["P2_429s"] and not f["P2_duplicates"]
                      and not f["P2_dead"]),
    "P3_p95_s": ("<= P3_goal_s", lambda f: f["P3_p95_s"] <= f["P3_goal_s"]),
    "P4_scrape_ms": ("<= 20", lambda f: f["P4_scrape_ms"] <= 20),
    "P5_check_s": ("<= 1", lambda f: f["P5_check_s"] <= 1),
}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    figures: dict[str, float] = {}
    took: list[tuple[str, float]] = []
    for name, bench in BENCHMARKS:
        started = time.perf_counter()
        print(f"\n== {name}{' (quick)' if quick else ''}", flush=True)
        figures.update(bench(quick))
        took.append((name, time.perf_counter() - started))
    print()
    print(table("Goals", ("figure", "value", "goal", "met"),
                [(n, figures[n], goal, "yes" if met(figures) else "NO") for n, (goal, met) in GOALS.items()
                 if n in figures]))
    print(table("Time taken", ("benchmark", "seconds"), took))
    print(figure_line({n: v for n, v in figures.items() if not n.startswith("P5_") or n == "P5_check_s"}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
