"""What the command line prints on the terminal: a console on stdout (wide enough for the
KPI table when piped into a file or a CI log) and the short KPI table after a run."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.kpis import MIN_EVENTS, count_of, shown_reason
from sim.present.format import DASH, fmt_cell

PIPE_WIDTH = 150
"""Width of tables printed when stdout is not a terminal (a pipe, a file, a CI log)."""

RUN_KPI_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("GMV", "gmv", ""),
    ("private share", "private_share", "pct"),
    ("CAC public", "cac_public", ""),
    ("CAC private", "cac_private", ""),
    ("ROAS ads", "roas_ads", ""),
    ("ROI public", "roi_public", ""),
    ("ROI private", "roi_private", ""),
    ("ROI total", "roi_total", ""),
    ("members", "members", "int"),
    ("repurchase", "repurchase_rate", "pct"),
)
"""(title, KPI key, fmt_cell kind) of the table printed after a run."""


def run_kpi_cell(k: dict, key: str, kind: str) -> str:
    """A KPI cell: the value, or a ratio on fewer than `MIN_EVENTS` events withheld with its
    count ("– n=12")."""
    if shown_reason(k, key) is not None:
        return f"{DASH} n={count_of(k, key):,.0f}"
    return fmt_cell(k.get(key), kind)


def out_console() -> Console:
    """A console on the current stdout; wide enough for the KPI table when piped."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(file=sys.stdout, width=width)


def run_kpi_table(summary: dict) -> Table:
    """The short per-brand KPI table printed after a run."""
    kpis = summary["kpis"]
    table = Table(
        title=f"{summary['scenario']} · seed {summary['seed']} · {summary['days']} days",
        caption=f"– n=K: withheld, K < {MIN_EVENTS} events behind the ratio",
    )
    table.add_column("brand", no_wrap=True)
    for title, _, _ in RUN_KPI_COLUMNS:
        table.add_column(title, justify="right", no_wrap=True)
    rows = [*kpis["brands"].items(), ("market", kpis["market"])]
    for name, k in rows:
        table.add_row(
            Text(str(name)), *[run_kpi_cell(k, key, kind) for _, key, kind in RUN_KPI_COLUMNS]
        )
    return table
