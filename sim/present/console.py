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
    """The short per-brand KPI table printed after a run: attributed KPIs (what the ledger
    credits to each channel), labelled so; the effects table says what a strategy adds."""
    kpis = summary["kpis"]
    table = Table(
        title=f"{summary['scenario']} · seed {summary['seed']} · {summary['days']} days · "
        "attributed KPIs (not effects)",
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


EFFECT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Δ contribution", "contribution", "money"),
    ("Δ GMV", "gmv", "money"),
    ("incremental ROI", "incremental_roi", "ratio"),
    ("payback day", "payback_day", "day"),
    ("Δ members", "members", "count"),
    ("Δ customers", "customers", "count"),
)
"""(title, incremental KPI, kind) of the effects table printed after a run."""


def compact(v: float | None, signed: bool = True) -> str:
    """A number in few characters: +112k, −2.1M, +35, 1.32 (DASH when undefined)."""
    if v is None or v != v or v in (float("inf"), float("-inf")):
        return DASH
    sign = "+" if signed and v > 0 else ""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{sign}{v / size:.3g}{suffix}".replace("-", "−")
    text = f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2g}"
    return (sign + text).replace("-", "−")


def effect_cell(row: dict | None, kind: str) -> str:
    """'+112k [+53k, +170k]': an effect and its 95% interval; a payback day reads 'day 337
    [283, 439]', 'none' when there is no payback within the horizon, and an open upper
    bound ('…') when some resamples do not pay back."""
    if row is None:
        return DASH
    v, lo, hi = row.get("diff"), row.get("low"), row.get("high")
    if kind == "day":
        if v is None:
            return "none"
        bounds = "" if lo is None else f" [{lo:.0f}, {'…' if hi is None else f'{hi:.0f}'}]"
        return f"day {v:.0f}{bounds}"
    if kind == "ratio":
        text = DASH if v is None else f"{v:.2f}"
        bounds = "" if lo is None or hi is None else f" [{lo:.2f}, {hi:.2f}]"
        return (text + bounds).replace("-", "−")
    bounds = "" if lo is None or hi is None else f" [{compact(lo)}, {compact(hi)}]"
    return compact(v) + bounds


def effects_table(summary: dict) -> Table:
    """Per brand (and the market, when there are several brands): what the scenario adds
    over its counterfactual twin, with 95% intervals over paired replicates."""
    fx = summary["effects"]
    rows = {(r["brand"], r["metric"]): r for r in fx["table"]}
    units = list(dict.fromkeys(r["brand"] for r in fx["table"]))
    if len(units) == 2:  # one brand: the market row would repeat it
        units = units[:1]
    table = Table(
        title=f"effects: {summary['scenario']} − {fx['twin']} · mean of {fx['pairs']} paired "
        "replicates [95% interval]",
        caption=f"twin: {fx['description']}",
    )
    table.add_column("brand", no_wrap=True)
    for title, _, _ in EFFECT_COLUMNS:
        table.add_column(title, justify="right", no_wrap=True)
    for unit in units:
        table.add_row(
            Text(str(unit)),
            *[effect_cell(rows.get((unit, key)), kind) for _, key, kind in EFFECT_COLUMNS],
        )
    return table
