"""The strategist's report of one run: `report.md` plus `figures/*.png`.

`write_report(result, folder)` is called by `sim.outputs.write_outputs`. The report is a page
a strategist reads without the code: a headline generated from the numbers that opens with
the effects against the counterfactual twin (when the run measured them:
`summary["effects"]`, from `sim.effects`), the effects table, then the attributed KPIs
labelled as attribution: a KPI table per brand and for the market, the Youzan triangle and
FAST stocks, six figures with one-line captions on how to read them, and the definitions
of every KPI as `sim.kpis` computes them.

All numbers come from `result.summary["kpis"]` (whole-run KPIs) and `sim.kpis.periodic`
(time series); nothing here re-derives a KPI formula. Number formats, tables and the
figure style come from `sim.present` (bare `matplotlib.figure.Figure` objects on the Agg
canvas inside a local seaborn style, so the same run always gives the same PNG bytes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from sim.calendar import festival_spans
from sim.frameworks import FAST_KEYS, FORCES, WATERWHEEL_KEYS, frameworks
from sim.kpis import MIN_EVENTS, count_of, periodic, shown_reason
from sim.params import SOURCES_CUSTOMER
from sim.present import figures
from sim.present.figures import (
    brand_colors,
    figure,
    hide_unused,
    mark_if_empty,
    save,
    style,
    thousands_axis,
)
from sim.present.forked import Drawing, draw_aside
from sim.present.format import DASH, fmt_count, fmt_money, fmt_ratio, fmt_share, is_missing
from sim.present.tables import md_escape, md_table
from sim.vocab import LIFECYCLE_SEGMENTS

if TYPE_CHECKING:
    from sim.runner import RunResult

FIGURES = "figures"
MAX_BRANDS = 6
"""With more brands than this, figures show the market plus the FOCUS_BRANDS largest."""
FOCUS_BRANDS = 5
MARKET = "market"
MARKET_COLOR = "#222222"

STOCK_ORDER = ("members", "customers", "lapsed", "aware", "unaware")
"""Funnel stocks from the most to the least valuable: the stacking order of figure 3."""
STOCK_COLORS = figures.STOCK_COLORS
CHANNEL_COLORS = figures.CHANNEL_COLORS
LINE_COLORS = {"public": "#4c72b0", "private": "#dd8452", "all": MARKET_COLOR}
BREAK_EVEN: dict[str, Any] = {"color": "#c0392b", "lw": 1.3, "ls": ":", "zorder": 1}


# (label, getter key, formatter); "ltv90"/"ltv365" read the "all" entry of the dict. A ratio's
# cell carries its count ("830 (n=44)"), or is withheld below sim.kpis.MIN_EVENTS.
KPI_ROWS: tuple[tuple[str, str, Any], ...] = (
    ("GMV (yuan)", "gmv", fmt_money),
    ("private share of GMV", "private_share", fmt_share),
    ("private-influenced share of GMV", "private_influenced_share", fmt_share),
    ("order value (yuan)", "order_value", fmt_money),
    ("order value in the private shop (yuan)", "order_value_private", fmt_money),
    ("gross profit − cost (yuan)", "contribution", fmt_money),
    ("cost: acquisition / serving / selling (yuan)", "cost_split", None),
    ("CAC public (yuan)", "cac_public", fmt_money),
    ("CAC private (yuan)", "cac_private", fmt_money),
    ("CAC blended (yuan)", "cac_blended", fmt_money),
    *((f"CAC {s}, all costs (yuan)", f"cac_{s}", fmt_money) for s in SOURCES_CUSTOMER),
    ("ROAS ads", "roas_ads", fmt_ratio),
    ("ROI public", "roi_public", fmt_ratio),
    ("ROI private", "roi_private", fmt_ratio),
    ("ROI total", "roi_total", fmt_ratio),
    ("members (end)", "members", fmt_count),
    ("reachable members (end)", "reachable", fmt_count),
    ("active members (end)", "active_members", fmt_count),
    ("repurchase rate", "repurchase_rate", fmt_share),
    ("referral rate", "referral_rate", fmt_share),
    ("fake member share", "fake_member_share", fmt_share),
    ("LTV90, all sources (yuan)", "ltv90", fmt_money),
    ("LTV365, all sources (yuan)", "ltv365", fmt_money),
)


def kpi_cell(k: dict, key: str, f: Any) -> str:
    """One KPI of a panel as the report shows it: the value; a ratio's count beside it
    ("830 (n=44)"); a ratio on fewer than `MIN_EVENTS` events withheld with the reason
    ("– (n=12 < 30 customers)"); the cost split as three sums."""
    if key == "cost_split":
        parts = (k.get("cost_acquisition"), k.get("cost_serving"), k.get("cost_selling"))
        return " / ".join(fmt_money(v) for v in parts)
    reason = shown_reason(k, key)
    if reason is not None:
        return f"{DASH} ({reason})"
    text = f(_kpi_value(k, key))
    n = count_of(k, key)
    return text if n is None or text == DASH else f"{text} (n={n:,.0f})"


def _kpi_value(k: dict, key: str) -> float | None:
    v = k.get(key)
    return v.get("all") if isinstance(v, dict) else v


# --------------------------------------------------------------------------- time windows


def cost_window(days: int) -> int:
    """Window for the cost/ROI series: quarters (90 days) on runs of a year or more, else
    months, because per-window CAC and ROI are noisy on small new-customer counts."""
    return 90 if days >= 360 else 30


def _series(ledger: pd.DataFrame, window: int, by_brand: bool) -> pd.DataFrame:
    """`periodic` with the x position capped at the run's last day, the window's length in
    days, and a trailing window shorter than half a window dropped (too few days to plot
    without misleading; it is mentioned in the report)."""
    out = periodic(ledger, window, by_brand=by_brand)
    last_day = int(ledger["day"].max())
    first_day = int(ledger["day"].min())
    start = out["period"] * window
    out["x"] = np.minimum(out["day"], last_day)
    out["window_days"] = np.minimum(out["day"], last_day) - np.maximum(start, first_day) + 1
    keep = out["window_days"] >= min(window, last_day - first_day + 1) / 2
    return out[keep].reset_index(drop=True)


def _tail_days(days: int, window: int) -> int:
    """Days in the run's last, partial window (0 when the windows tile the run)."""
    return days % window if days > window else 0


# --------------------------------------------------------------------------- figures


def _panels(brands: Sequence[str], focus: Sequence[str]) -> list[str]:
    """Panels of a per-brand figure: each focus brand, then the market when there are
    several brands (with one brand the market is that brand)."""
    return [*focus, MARKET] if len(brands) > 1 else list(focus)


def _rows_of(per_brand: pd.DataFrame, market: pd.DataFrame, name: str) -> pd.DataFrame:
    return market if name == MARKET else per_brand[per_brand["brand"] == name]


def fig_penetration(
    monthly: pd.DataFrame,
    monthly_mkt: pd.DataFrame,
    focus: Sequence[str],
    colors: dict[str, Any],
    several: bool,
    path: Path,
) -> None:
    """Figure 1: private share (solid) and private-influenced share (dashed) of GMV."""
    fig, axes = figure(1, 1, 8.5, 4.4)
    ax = axes[0, 0]
    series = [(b, _rows_of(monthly, monthly_mkt, b), colors[b], 1.8) for b in focus]
    if several:
        series.append((MARKET, monthly_mkt, MARKET_COLOR, 2.8))
    for name, rows, color, lw in series:
        ax.plot(rows["x"], rows["private_share"], color=color, lw=lw, marker="o", ms=3, label=name)
        ax.plot(rows["x"], rows["private_influenced_share"], color=color, lw=lw * 0.8, ls="--")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("day of run (end of 30-day window)")
    ax.set_ylabel("share of GMV")
    ax.set_title("Penetration path: private share of GMV")
    handles = [Line2D([], [], color=c, lw=lw, label=n) for n, _, c, lw in series]
    handles += [
        Line2D([], [], color="grey", lw=1.5, label="private share (own channels)"),
        Line2D([], [], color="grey", lw=1.5, ls="--", label="private-influenced share"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save(fig, path)


def fig_cost_roi(
    cost: pd.DataFrame, cost_mkt: pd.DataFrame, panels: Sequence[str], window: int, path: Path
) -> None:
    """Figure 2: CAC (upper row) and ROI (lower row) per window, one column per panel;
    more than three panels wrap into further row pairs (CAC and ROI scales shared)."""
    ncols = min(len(panels), 3)
    blocks = math.ceil(len(panels) / ncols)
    fig, axes = figure(ncols, 2 * blocks, 3.9, 3.0, legend_w=2.6 if ncols == 1 else 0.0)
    cac = (
        ("cac_public", "public (ads)", LINE_COLORS["public"], "-"),
        (
            "cac_private",
            "private (all private costs, customers it acquired)",
            LINE_COLORS["private"],
            "-",
        ),
        ("cac_blended", "blended", LINE_COLORS["all"], "--"),
    )
    roi = (
        ("roi_public", "public", LINE_COLORS["public"], "-"),
        ("roi_private", "private", LINE_COLORS["private"], "-"),
        ("roi_total", "total", LINE_COLORS["all"], "--"),
    )
    empty = [0, 0]
    for j, name in enumerate(panels):
        rows = _rows_of(cost, cost_mkt, name)
        block, col = divmod(j, ncols)
        for kind, spec in ((0, cac), (1, roi)):
            ax = axes[2 * block + kind, col]
            if j:
                ax.sharey(axes[kind, 0])
            if j or kind:
                ax.sharex(axes[0, 0])
            for key, label, color, ls in spec:
                ax.plot(
                    rows["x"],
                    rows[key],
                    color=color,
                    marker="o",
                    ms=3.5,
                    lw=1.8,
                    ls=ls,
                    label=label,
                )
            if kind == 1:
                ax.axhline(1.0, **BREAK_EVEN)
            if mark_if_empty(
                ax,
                [rows],
                [k for k, *_ in spec],
                "undefined in every window\n(no new customers)"
                if kind == 0
                else "undefined in every window\n(no cost)",
                set_scale=False,
            ):
                empty[kind] += 1
            if col == 0:
                ax.set_ylabel(
                    "CAC (yuan per new customer)" if kind == 0 else "ROI (gross profit per yuan)"
                )
        axes[2 * block, col].set_title(name)
        axes[2 * block + 1, col].set_xlabel(f"day of run (end of {window}-day window)")
    thousands_axis(axes[0, 0])
    for ax in axes.flat:
        ax.set_ylim(bottom=0)
    for kind in (0, 1):  # rows share y: fix the scale only when every panel is empty
        if empty[kind] == len(panels):
            axes[kind, 0].set_ylim(0, 1)
    used = {(2 * (j // ncols) + k, j % ncols) for j in range(len(panels)) for k in (0, 1)}
    for r, c in np.ndindex(axes.shape):
        if (r, c) not in used:
            axes[r, c].set_visible(False)
    h0, _ = axes[0, 0].get_legend_handles_labels()
    h1, _ = axes[1, 0].get_legend_handles_labels()
    h1.append(Line2D([], [], **BREAK_EVEN, label="ROI = 1 (break-even)"))
    axes[0, ncols - 1].legend(handles=h0, title="CAC", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    axes[1, ncols - 1].legend(handles=h1, title="ROI", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("Acquisition cost and return per window", fontweight="bold")
    save(fig, path)


def fig_stocks(stocks: pd.DataFrame, focus: Sequence[str], consumers: int, path: Path) -> None:
    """Figure 3: funnel stocks towards each brand as stacked areas (they sum to the
    population)."""
    ncols = min(len(focus), 3)
    nrows = math.ceil(len(focus) / ncols)
    fig, axes = figure(
        ncols, nrows, 6.5 if ncols == 1 else 4.6, 3.3, legend_w=1.8, sharex=True, sharey=True
    )
    for ax, name in zip(axes.flat, focus, strict=False):
        rows = stocks[stocks["brand"] == name]
        ax.stackplot(
            rows["x"],
            *[rows[f"stock_{s}"] for s in STOCK_ORDER],
            colors=[STOCK_COLORS[s] for s in STOCK_ORDER],
            labels=STOCK_ORDER,
            lw=0,
        )
        ax.set_title(name)
        ax.set_ylim(0, consumers)
        ax.margins(x=0)
        thousands_axis(ax)
    hide_unused(axes, len(focus), "day of run")
    for ax in axes[:, 0]:
        ax.set_ylabel("consumers")
    handles = [Patch(color=STOCK_COLORS[s], label=s) for s in STOCK_ORDER]
    fig.legend(handles=handles, loc="outside right upper", title="state towards the brand")
    fig.suptitle("Funnel stocks", fontweight="bold")
    save(fig, path)


def fig_gmv_channels(
    cost: pd.DataFrame, cost_mkt: pd.DataFrame, panels: Sequence[str], window: int, path: Path
) -> None:
    """Figure 4: GMV per window split by channel, stacked bars on the day axis (each bar
    spans its window); a shorter last window is narrower, hatched and labelled."""
    ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = figure(ncols, nrows, 6.5 if ncols == 1 else 4.6, 3.4, legend_w=1.2, sharex=True)
    for ax, name in zip(axes.flat, panels, strict=False):
        rows = _rows_of(cost, cost_mkt, name).reset_index(drop=True)
        ndays = rows["window_days"].to_numpy(dtype=float)
        mid = rows["x"].to_numpy(dtype=float) - (ndays - 1) / 2
        bottom = np.zeros(len(rows))
        partial = ndays < window
        for ch, color in CHANNEL_COLORS.items():
            vals = rows[f"gmv_{ch}"].to_numpy(dtype=float)
            bars = ax.bar(mid, vals, bottom=bottom, color=color, width=ndays * 0.8, label=ch)
            for bar, p in zip(bars, partial, strict=True):
                if p:
                    bar.set_hatch("//")
                    bar.set_edgecolor("white")
            bottom += vals
        for i in np.flatnonzero(partial):
            ax.annotate(
                f"{ndays[i]:.0f} days",
                (mid[i], bottom[i]),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
        ax.set_title(name)
        ax.set_ylim(0, max(bottom.max(initial=0.0), 1.0) * 1.1)
        thousands_axis(ax)
    hide_unused(axes, len(panels), "day of run")
    for ax in axes[:, 0]:
        ax.set_ylabel("GMV (yuan)")
    handles = [Patch(color=c, label=ch) for ch, c in CHANNEL_COLORS.items()]
    fig.legend(handles=handles, loc="outside right upper", title="channel")
    fig.suptitle(f"GMV by channel per {window}-day window", fontweight="bold")
    save(fig, path)


def fig_ltv(
    kpis: dict,
    panels: Sequence[str],
    colors: dict[str, Any],
    cohort_n: dict[str, dict[str, dict[str, float]]],
    path: Path,
) -> None:
    """Figure 5: LTV90 and LTV365 by acquisition source, grouped bars per brand."""
    fig, axes = figure(2, 1, 5.6, 3.8, sharey=True)
    sources = [*SOURCES_CUSTOMER, "all"]
    for ax, h in zip(axes.flat, (90, 365), strict=True):
        key = f"ltv{h}"
        got = [
            s
            for s in sources
            if any(not is_missing(_panel_kpis(kpis, p)[key].get(s)) for p in panels)
        ]
        ax.set_title(f"LTV{h}: GMV in the first {h} days")
        if not got:
            ax.text(
                0.5,
                0.5,
                f"no customer cohort reached\nday {h} within the run",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="grey",
            )
            ax.set_xticks([])
            continue
        width = 0.8 / len(panels)
        for j, p in enumerate(panels):
            vals = [_panel_kpis(kpis, p)[key].get(s) for s in got]
            pos = [i + (j - (len(panels) - 1) / 2) * width for i in range(len(got))]
            keep = [(x, v, s) for x, v, s in zip(pos, vals, got, strict=True) if not is_missing(v)]
            color = MARKET_COLOR if p == MARKET else colors[p]
            ax.bar(
                [k[0] for k in keep], [k[1] for k in keep], width=width * 0.95, color=color, label=p
            )
            if len(panels) <= 3:
                for x, v, s in keep:
                    n = cohort_n[p][str(h)].get(s, 0)
                    ax.annotate(
                        f"n={n:,.0f}",
                        (x, v),
                        ha="center",
                        va="bottom",
                        fontsize=7 if len(panels) == 1 else 6.5,
                        rotation=0 if len(panels) == 1 else 90,
                        xytext=(0, 2),
                        textcoords="offset points",
                        color="#444444",
                        bbox={"fc": "white", "ec": "none", "pad": 0.4, "alpha": 0.8},
                    )
        ax.set_xticks(range(len(got)), got, rotation=30, ha="right")
        ax.set_xlabel("acquisition source")
        ax.margins(y=0.18)
    axes[0, 0].set_ylabel("yuan per acquired customer")
    thousands_axis(axes[0, 0])
    handles = [Patch(color=MARKET_COLOR if p == MARKET else colors[p], label=p) for p in panels]
    fig.legend(handles=handles, loc="outside right upper")
    fig.suptitle("Customer value by acquisition source", fontweight="bold")
    save(fig, path)


def fig_traffic(
    cost: pd.DataFrame,
    cost_mkt: pd.DataFrame,
    focus: Sequence[str],
    colors: dict[str, Any],
    several: bool,
    window: int,
    path: Path,
) -> None:
    """Figure 6: the platform's traffic price (CPM) and each brand's first-order ROAS."""
    fig, axes = figure(2, 1, 4.8, 3.6)
    ax = axes[0, 0]
    ax.plot(cost_mkt["x"], cost_mkt["cpm"], color=MARKET_COLOR, marker="o", ms=3.5, lw=2)
    ax.set_title("Traffic cost (CPM)")
    ax.set_ylabel("yuan per 1000 impressions")
    ax.set_xlabel(f"day of run (end of {window}-day window)")
    ax.set_ylim(0, max(np.nanmax(cost_mkt["cpm"].to_numpy(dtype=float), initial=0.0), 1.0) * 1.1)
    ax = axes[0, 1]
    series = [(b, _rows_of(cost, cost_mkt, b), colors[b], 1.8) for b in focus]
    if several:
        series.append((MARKET, cost_mkt, MARKET_COLOR, 2.8))
    for name, rows, color, lw in series:
        ax.plot(rows["x"], rows["roas_ads"], color=color, lw=lw, marker="o", ms=3.5, label=name)
    top = np.nanmax(
        [np.nanmax(r["roas_ads"].to_numpy(dtype=float), initial=0.0) for _, r, _, _ in series],
        initial=0.0,
    )
    if mark_if_empty(ax, [r for _, r, _, _ in series], ["roas_ads"], "no ad spend: ROAS undefined"):
        ax.set_xlim(axes[0, 0].get_xlim())
    elif top >= 0.5:
        ax.axhline(1.0, **BREAK_EVEN, label="ROAS = 1")
    else:  # keep the scale readable: the break-even line would squash every series
        ax.set_ylim(0, max(top, 1e-9) * 1.3)
        ax.text(
            0.98,
            0.97,
            "every window is below ROAS 1 (break-even)",
            transform=ax.transAxes,
            ha="right",
            va="top",
            color=BREAK_EVEN["color"],
            fontsize=8,
        )
    ax.set_title("Ads ROAS (first orders)")
    ax.set_ylabel("first-order GMV per yuan of ads")
    ax.set_xlabel(f"day of run (end of {window}-day window)")
    if top >= 0.5:
        ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    save(fig, path)


def fig_calendar(ledger: pd.DataFrame, spans: Sequence[tuple[int, int]], path: Path) -> None:
    """Figure 7, only for a scenario with festivals (the calendar): the market's daily CPM,
    GMV and private-domain touches, the festival days shaded."""
    by_day = ledger.groupby("day")
    panels = (
        (by_day["cpm"].mean(), "Traffic cost (CPM)", "yuan per 1000 impressions"),
        (by_day["gmv_total"].sum(), "GMV", "yuan per day"),
        (by_day["touches_total"].sum(), "Private-domain touches", "touches per day"),
    )
    fig, axes = figure(3, 1, 4.2, 3.2)
    for ax, (series, title, ylabel) in zip(axes.flat, panels, strict=True):
        figures.shade_spans(ax, spans)
        ax.plot(series.index, series.to_numpy(dtype=float), color=MARKET_COLOR, lw=1)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("day of run")
        ax.set_ylim(bottom=0)
        thousands_axis(ax)
    axes[0, 0].legend(loc="upper left")
    fig.suptitle("Festival calendar: the market day by day", fontweight="bold")
    save(fig, path)


def _panel_kpis(kpis: dict, name: str) -> dict:
    return kpis["market"] if name == MARKET else kpis["brands"][name]


# --------------------------------------------------------------------------- text


def focus_brands(kpis: dict, limit: int = MAX_BRANDS, keep: int = FOCUS_BRANDS) -> list[str]:
    """The brands the per-brand figures show: all of them, or with more than `limit`
    the `keep` largest by GMV (in the scenario's order)."""
    brands = list(kpis["brands"])
    if len(brands) <= limit:
        return brands
    top = sorted(brands, key=lambda b: -(kpis["brands"][b]["gmv"] or 0.0))[:keep]
    return [b for b in brands if b in top]


ATTRIBUTION_ONLY = (
    "No counterfactual twin was run, so every figure in this report is an **attribution** "
    "(what the ledger credits to a channel or a source), not an effect: it does not say what "
    "a strategy adds. `siyu run` without `--no-twin` measures the effects against a twin."
)
ATTRIBUTION_LEAD = (
    "Attributed figures (what the ledger credits to channels and sources, not effects):"
)


def _sure(row: dict) -> bool:
    """Whether an effect's 95% interval excludes 0."""
    lo, hi = row.get("low"), row.get("high")
    return not is_missing(lo) and not is_missing(hi) and (lo > 0 or hi < 0)


def _interval(row: dict, f: Any = fmt_money, what: str = "95% CI") -> str:
    """'95% CI a…b', or '' when there is no interval (one replicate)."""
    lo, hi = row.get("low"), row.get("high")
    if is_missing(lo):
        return ""
    return f"{what} {f(lo)}…{'beyond the horizon' if is_missing(hi) else f(hi)}"


def _payback(row: dict | None, days: int) -> str:
    if row is None:
        return ""
    v = row.get("diff")
    lo, hi = row.get("low"), row.get("high")
    ci = (
        ""
        if is_missing(lo)
        else f"95% CI day {lo:.0f}–{'beyond the horizon' if is_missing(hi) else f'{hi:.0f}'}"
    )
    if is_missing(v):
        return f"do not pay back within the {days} days" + (f" ({ci})" if ci else "")
    if v == 0:
        return "never cost more than they brought (payback from day 0)"
    return f"pay back on day {v:.0f}" + (f" ({ci})" if ci else "")


def effect_sentences(summary: dict, days: int) -> list[str]:
    """The incremental answer, per brand the twin changes (and the market with several
    brands): what the lever adds to contribution (a year too), its return per yuan of
    marketing cost and its payback day, each with its 95% interval; or, without effects,
    that the report's figures are attributions."""
    from sim.params import BUILTIN_COUNTERFACTUALS

    fx = summary.get("effects")
    if not fx:
        return [ATTRIBUTION_ONLY]
    rows = {(r["brand"], r["metric"]): r for r in fx["table"]}
    brands = list(summary["kpis"]["brands"])
    lead = (
        f"**Effects** against the counterfactual twin `{fx['twin']}` ({fx['description']}), "
        f"the same seeds in both (common random numbers), mean of {fx['pairs']} paired "
        "replicates."
    )
    if all(r["diff"] == 0 for r in fx["table"] if r["metric"] in ("gmv", "contribution")):
        return [
            lead,
            "the twin runs exactly as the scenario does: every increment is zero, so the "
            "scenario's own levers cannot be judged against this twin.",
        ]
    subject = fx["lever"]
    plural = fx["counterfactual"] in BUILTIN_COUNTERFACTUALS
    add, lose = ("add", "lose") if plural else ("adds", "loses")
    units = [b for b in fx["brands_changed"] if b in brands] or brands
    if len(brands) > 1:
        units = [*units, MARKET]
    out = [lead]
    for unit in units:
        c = rows.get((unit, "contribution"))
        if c is None:
            continue
        who = "the market as a whole" if unit == MARKET else f"**{unit}**"
        v = c["diff"]
        yearly = f"at that rate {fmt_money(abs(v) * 365 / days)} a year; " if days != 365 else ""
        ci = _interval(c, what="95% CI of the change")
        unsure = "" if _sure(c) else ", not distinguishable from zero at this many replicates"
        parts = [
            f"for {who}, {subject} {add if v >= 0 else lose} {fmt_money(abs(v))} yuan of "
            f"contribution over the {days} days ({yearly}{ci}{unsure})"
        ]
        r = rows.get((unit, "incremental_roi"))
        if r is not None:
            if is_missing(r.get("diff")):
                parts.append("change no marketing cost (no incremental ROI)")
            else:
                ci = _interval(r, fmt_ratio)
                parts.append(
                    f"return {fmt_ratio(r['diff'])} yuan of gross profit per yuan of marketing "
                    f"cost" + (f" ({ci})" if ci else "")
                )
        pay = _payback(rows.get((unit, "payback_day")), days)
        if pay:
            parts.append(pay)
        sentence = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        out.append(sentence[0].upper() + sentence[1:] + ".")
    return out


def headline(summary: dict, days: int) -> list[str]:
    """Sentences that state what the numbers say. First the effects against the
    counterfactual twin (`effect_sentences`; without them, that the figures are
    attributions); then, labelled as attribution: GMV and private share, the best total
    ROI, private vs public ROI per brand, CAC, the penetration path, private ops."""
    kpis = summary["kpis"]
    brands: dict[str, dict] = kpis["brands"]
    m = kpis["market"]
    out: list[str] = [*effect_sentences(summary, days), ATTRIBUTION_LEAD]
    out.append(
        f"Over {days} days the market sold {fmt_money(m['gmv'])} yuan of GMV: "
        f"{fmt_share(m['private_share'])} through brand-owned channels (private share) and "
        f"{fmt_share(m['private_influenced_share'])} credited to the private domain "
        f"(private-influenced share); gross profit minus all costs is "
        f"{fmt_money(m['contribution'])} yuan."
    )

    roi = {b: k["roi_total"] for b, k in brands.items() if not is_missing(k["roi_total"])}
    if len(roi) > 1:
        best = max(roi, key=lambda b: roi[b])
        worst = min(roi, key=lambda b: roi[b])
        out.append(
            f"**{best}** has the highest total ROI ({fmt_ratio(roi[best])} yuan of "
            f"gross profit per yuan spent), **{worst}** the lowest "
            f"({fmt_ratio(roi[worst])})."
        )
    elif roi:
        ((b, v),) = roi.items()
        out.append(f"**{b}** earns {fmt_ratio(v)} yuan of gross profit per yuan spent (total ROI).")
    if roi:
        above = [b for b, v in roi.items() if v >= 1.0]
        if not above and len(roi) == 1:
            out.append(
                "Its gross profit does not cover its spend (total ROI below 1): at "
                "these budgets it loses money over the run."
            )
        elif not above:
            out.append(
                "No brand's gross profit covers its spend (every total ROI is below "
                "1): at these budgets all brands lose money over the run."
            )
        elif len(above) < len(roi):
            out.append(
                f"Only {', '.join(f'**{b}**' for b in above)} cover"
                f"{'s' if len(above) == 1 else ''} their spend (total ROI ≥ 1)."
            )

    detail = len(brands) <= 3
    groups: dict[str, list[str]] = {
        "beats": [],
        "trails": [],
        "equals": [],
        "none": [],
        "no_public": [],
        "few": [],
    }
    parts = []
    for b, k in brands.items():
        rp, rq = k["roi_private"], k["roi_public"]
        few = shown_reason(k, "roi_private") or shown_reason(k, "roi_public")
        if few and not is_missing(rp) and not is_missing(rq):
            groups["few"].append(b)
            parts.append(f"**{b}**'s private and public ROI rest on too few orders ({few})")
        elif is_missing(rp):
            groups["none"].append(b)
            parts.append(f"**{b}** has no private ROI (no private-domain cost)")
        elif is_missing(rq):
            groups["no_public"].append(b)
            parts.append(f"**{b}** has no public ROI (no ads or platform commission)")
        else:
            verb = "beats" if rp > rq else "trails" if rp < rq else "equals"
            groups[verb].append(b)
            parts.append(
                f"**{b}**'s private ROI {verb} its public ROI ({fmt_ratio(rp)} vs {fmt_ratio(rq)})"
            )
    if not detail:
        wording = {
            "beats": "private ROI beats public ROI for",
            "trails": "private ROI trails public ROI for",
            "equals": "they are equal for",
            "none": "there is no private ROI (no private-domain cost) for",
            "no_public": "there is no public ROI for",
            "few": "too few credited orders to compare ROI for",
        }
        parts = [f"{wording[g]} {_names(bs)}" for g, bs in groups.items() if bs]
    if parts:
        out.append("Private vs public: " + "; ".join(parts) + ".")

    cheaper, dearer, cparts = [], [], []
    for b, k in brands.items():
        # both carry every cost of their source (docs/KPIS.md section 3); cac_public is ads only
        cp, cq = k["cac_private"], k["cac_ads"]
        if shown_reason(k, "cac_private") or shown_reason(k, "cac_ads"):
            continue
        if not is_missing(cp) and not is_missing(cq):
            (cheaper if cp < cq else dearer).append(b)
            cparts.append(
                f"**{b}** pays {fmt_money(cp)} yuan per private-sourced customer "
                f"vs {fmt_money(cq)} per ad-sourced one "
                f"({'cheaper' if cp < cq else 'dearer'})"
            )
    if not detail:
        cparts = [
            f"private-sourced customers cost less than ad-sourced ones for {_names(cheaper)}"
            if cheaper
            else "",
            f"more for {_names(dearer)}" if dearer else "",
        ]
        cparts = [c for c in cparts if c]
    if cparts:
        out.append("Acquisition: " + "; ".join(cparts) + ".")

    first, last = m.get("private_share_first_quarter"), m.get("private_share_last_quarter")
    if days <= 90:
        out.append(
            f"The run is one quarter long, so the penetration path has one point: "
            f"{fmt_share(first)} private share."
        )
    else:
        if is_missing(first) or is_missing(last):
            trend = "moved"
        else:
            trend = "rose" if last > first else "fell" if last < first else "stayed"
        out.append(
            f"The market's private share {trend} from {fmt_share(first)} in the first 90 days "
            f"to {fmt_share(last)} in the last 90 days (days {days - 90}–{days - 1})."
        )

    n = len(brands)
    ops_end, ops_start = m.get("private_ops_share"), m.get("private_ops_share_start")
    if not is_missing(ops_end) and n == 1:
        (b,) = brands
        now = "runs" if ops_end >= 0.5 else "does not run"
        was = (
            ""
            if is_missing(ops_start) or ops_start == ops_end
            else " (it did not on day 0)"
            if ops_end >= 0.5
            else " (it did on day 0)"
        )
        out.append(f"**{b}** {now} private-domain operations at the end of the run{was}.")
    elif not is_missing(ops_end):
        running = round(ops_end * n)
        change = (
            ""
            if is_missing(ops_start) or ops_start == ops_end
            else f", against {round(ops_start * n)} on day 0"
        )
        out.append(
            f"{running} of {n} brands ({fmt_share(ops_end)}) "
            f"run{'s' if running == 1 else ''} private-domain operations at the end of "
            f"the run{change}."
        )

    fake = {
        b: k["fake_member_share"]
        for b, k in brands.items()
        if not is_missing(k["fake_member_share"]) and k["fake_member_share"] >= 0.05
    }
    if fake:
        out.append(
            "Coupon hunters: fake accounts are "
            + ", ".join(f"{fmt_share(v)} of **{b}**'s sign-ups" for b, v in fake.items())
            + " (referral rewards leak to the wool party)."
        )
    return out


def _day(v: float | None) -> str:
    return "none" if is_missing(v) else f"{v:.0f}"


EFFECT_ROWS: tuple[tuple[str, str, Any], ...] = (
    ("Δ contribution (yuan)", "contribution", fmt_money),
    ("Δ GMV (yuan)", "gmv", fmt_money),
    ("Δ gross profit (yuan)", "gross_profit", fmt_money),
    ("Δ marketing cost (yuan)", "marketing_cost", fmt_money),
    ("incremental ROI (yuan per yuan)", "incremental_roi", fmt_ratio),
    ("payback day", "payback_day", _day),
    ("Δ customers, end of run", "customers", fmt_count),
    ("Δ new customers", "new_customers", fmt_count),
    ("Δ members, end of run", "members", fmt_count),
    ("Δ new members", "new_members", fmt_count),
)
"""(label, incremental KPI, format) of the report's effects table (docs/KPIS.md defines them)."""


def budget_notices(ledger: pd.DataFrame) -> list[str]:
    """One sentence per brand whose annual budget bound during the run: the first day its
    ads stopped and how many days they stayed stopped (ledger column ``budget_bound``,
    rule `sim.rules.ads_within_budget`)."""
    if "budget_bound" not in ledger or not len(ledger):
        return []
    out = []
    bound = ledger[ledger["budget_bound"] > 0]
    for brand, rows in bound.groupby("brand", observed=True, sort=False):
        first, n = int(rows["day"].min()), len(rows)
        out.append(
            f"**{brand}**'s budget bound on day {first}: its annual_budget could no longer "
            f"pay its ads, which stopped for {n:,} day{'s' if n != 1 else ''} of the run "
            "(they resume at the start of the next budget year)."
        )
    return out


def lifecycle_notices(ledger: pd.DataFrame) -> list[str]:
    """Lifecycle operations: one sentence per brand whose guides sent lifecycle touches,
    counted by segment, the tag (ledger columns ``lifecycle_<segment>``, ODD 7.24)."""
    columns = [f"lifecycle_{s}" for s in LIFECYCLE_SEGMENTS]
    if not set(columns) <= set(ledger.columns) or not len(ledger):
        return []
    out = []
    sums = ledger.groupby("brand", observed=True, sort=False)[[*columns, "touches_total"]].sum()
    for brand, row in sums.iterrows():
        sent = float(row[columns].sum())
        if sent <= 0:
            continue
        parts = ", ".join(
            f"{fmt_count(row[c])} {s.replace('winback', 'win-back')}"
            for c, s in zip(columns, LIFECYCLE_SEGMENTS, strict=True)
        )
        share = sent / row["touches_total"] if row["touches_total"] > 0 else 0.0
        out.append(
            f"**{brand}**'s guides sent {fmt_count(sent)} lifecycle touches ({parts}): "
            f"{share:.0%} of its touches went to members due one."
        )
    return out


def effects_table(effects: dict) -> str:
    """Incremental KPIs (rows) per brand and for the market (columns): the mean paired
    difference from the twin and, below it, its 95% interval."""
    rows_by = {(r["brand"], r["metric"]): r for r in effects["table"]}
    cols = list(dict.fromkeys(r["brand"] for r in effects["table"]))
    if len(cols) == 2:  # one brand: the market column would repeat it
        cols = cols[:1]
    rows = []
    for label, key, f in EFFECT_ROWS:
        cells = []
        for c in cols:
            r = rows_by.get((c, key))
            if r is None:
                cells.append("–")
                continue
            lo, hi = r.get("low"), r.get("high")
            bounds = (
                "" if is_missing(lo) else f" ({f(lo)} … {'beyond' if is_missing(hi) else f(hi)})"
            )
            cells.append(f(r.get("diff")) + bounds)
        rows.append([label, *cells])
    return md_table(["incremental KPI", *[md_escape(c) for c in cols]], rows)


def _names(brands: Sequence[str]) -> str:
    """**a**, **b** and **c**."""
    bold = [f"**{b}**" for b in brands]
    return bold[0] if len(bold) == 1 else ", ".join(bold[:-1]) + " and " + bold[-1]


def kpi_table(kpis: dict) -> str:
    """KPIs (rows) per brand and for the market (columns); ratios with their counts
    (`kpi_cell`)."""
    cols = [*kpis["brands"], MARKET]
    header = ["KPI", *[md_escape(c) for c in cols]]
    rows = []
    for label, key, f in KPI_ROWS:
        rows.append([label, *[kpi_cell(_panel_kpis(kpis, c), key, f) for c in cols]])
    return md_table(header, rows)


def triangle_table(kpis: dict) -> str:
    """The Youzan triangle and FAST stocks per brand and for the market."""
    cols = [*kpis["brands"], MARKET]
    get = [_panel_kpis(kpis, c) for c in cols]
    rows = [
        [
            "triangle · ownership (reachable members)",
            *[fmt_count(k["triangle"]["ownership"]) for k in get],
        ],
        [
            "triangle · single-customer value (yuan)",
            *[fmt_money(k["triangle"]["single_customer_value"]) for k in get],
        ],
        ["triangle · referral rate", *[fmt_share(k["triangle"]["referral_rate"]) for k in get]],
        ["FAST · reachable", *[fmt_count(k["fast"]["reachable"]) for k in get]],
        ["FAST · engaged", *[fmt_count(k["fast"]["engaged"]) for k in get]],
        ["FAST · members", *[fmt_count(k["fast"]["members"]) for k in get]],
        ["FAST · active", *[fmt_count(k["fast"]["active"]) for k in get]],
    ]
    return md_table(["", *[md_escape(c) for c in cols]], rows)


def frameworks_section(result: RunResult, focus: Sequence[str]) -> list[str]:
    """The source cases' frameworks (`sim.frameworks`): FAST ratios and waterwheel stages
    per brand and for the market, and the four forces of each focus brand with the levers
    it sets and the KPIs they move (docs/KPIS.md, "Frameworks")."""
    kpis = result.summary["kpis"]
    fw = frameworks(result.ledger, result.scenario, kpis)
    cols = [*kpis["brands"], MARKET]
    get = [fw["market"] if c == MARKET else fw["brands"][c] for c in cols]
    money = ("gmv", "gross_profit", "cost_serving", "contribution")
    counts = ("reach", "inflow", "orders", "new_members", "engaged", "active_members")
    counts += ("mutes", "guides")

    def show(key: str, value: Any) -> str:
        if isinstance(value, str):
            return md_escape(value)
        if key in money:
            return fmt_money(value)
        if key in counts:
            return fmt_count(value)
        return fmt_ratio(value) if key == "roi_private" else fmt_share(value)

    rows = [
        [f"FAST · {k.replace('_', ' ')}", *[show(k, p["fast"][k]) for p in get]] for k in FAST_KEYS
    ]
    rows += [
        [f"waterwheel · {k}", *[show(k, p["waterwheel"][k]) for p in get]] for k in WATERWHEEL_KEYS
    ]
    forces = []
    for brand in focus:
        for force in FORCES:
            f = fw["brands"][brand]["forces"][force.name]
            levers = ", ".join(f"{k.rpartition('.')[2]} {v}" for k, v in f["levers"].items())
            moved = ", ".join(f"{k.replace('_', ' ')} {show(k, v)}" for k, v in f["kpis"].items())
            forces.append([md_escape(brand), force.name, md_escape(levers), moved])
    return [
        "## Frameworks: Tmall FAST, Tencent's waterwheel and the four forces",
        "",
        "FAST from the end-of-run stocks: reach (reachable members, and their share of "
        "consumers), engagement rate (engaged ÷ reachable), membership (members ÷ customers) "
        "and activity (active ÷ members). The waterwheel's stages over the run: inflow (new "
        "members), conversion (members' share of GMV), retention (repurchase rate) and fission "
        "(referral rate). All are ratios of ledger columns, attribution rather than effects.",
        "",
        md_table(["", *[md_escape(c) for c in cols]], rows),
        "",
        "The four forces: the levers each force sets in the scenario and the whole-run KPIs "
        'they move (docs/KPIS.md, "Frameworks").',
        "",
        md_table(["brand", "force", "levers", "KPIs it moves"], forces),
        "",
    ]


DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("GMV", "value of all orders at the price paid, over platform, private shop and stores."),
    ("Private share", "GMV placed in the brand's own shop (mini-program) ÷ total GMV."),
    (
        "Private-influenced share",
        "GMV credited to the private domain ÷ total GMV; credited "
        "orders are private-shop orders, orders prompted by a guide, group, broadcast or KOC "
        "touch or link, and platform orders paid with a member coupon.",
    ),
    (
        "Gross profit − cost",
        "GMV minus cost of goods, minus all cash spend (ads, platform "
        "commission, guides, KOCs, rewards, gifts, tooling). Discounts are foregone revenue, "
        "already out of GMV.",
    ),
    (
        "Cost: acquisition / serving / selling",
        "every yuan of cash spend assigned once: to acquiring customers of one source (ad "
        "spend; referral rewards; KOC and small-B fees; guide and distributor commissions on "
        "first orders; welcome gifts to joiners who have not bought), to serving existing "
        "customers and members (those commissions on repeat orders, gifts to joiners who "
        "have bought), or to selling (platform commission). Guides' salaries and tooling are "
        "shared: split by the private domain's actions, one per invitation or touch; an "
        "invitation to a consumer who has not bought is acquisition work for its source, "
        "everything else serving.",
    ),
    (
        "CAC public",
        "ad spend ÷ new customers acquired via ads (the cost of a click-bought customer).",
    ),
    (
        "CAC private",
        "all acquisition cost of private-domain operations (the acquisition part of "
        "guides' salaries and tooling, commissions on first orders, referral rewards, KOC "
        "fees, welcome gifts, discounts on first orders) ÷ customers the private domain "
        "acquired (first orders by members, credited to the private domain, or via "
        "referral, KOC and distributors).",
    ),
    (
        "CAC <source>",
        "everything acquiring that source's customers cost (its share of the costs above "
        "plus the discounts on their first orders) ÷ its new customers.",
    ),
    (
        "CAC blended",
        "all acquisition cost (every source, first-order discounts included) ÷ all new customers.",
    ),
    (
        "ROAS ads",
        "first-order GMV of ad-acquired customers ÷ ad spend (repeat orders are "
        "not counted, so ROAS understates the value of ads; see LTV).",
    ),
    (
        "ROI public",
        "gross profit of the orders the public domain is credited with (platform orders of "
        "ad-acquired customers not credited to the private domain) ÷ (ad spend + platform "
        "commission on those orders). Organic, word-of-mouth and store customers' orders are "
        "credited to neither domain.",
    ),
    (
        "ROI private",
        "gross profit of orders credited to the private domain ÷ (guide "
        "salaries and commissions + KOC commissions and fees + referral rewards + welcome gifts "
        "+ tooling + platform commission on those orders): the same base as ROI public.",
    ),
    (
        "Counts",
        f"a ratio shows the events it rests on (n = customers, orders ...); below {MIN_EVENTS} "
        "events it is withheld ('–' with the count) as too noisy to read.",
    ),
    ("ROI total", "all gross profit ÷ all cash spend (store orders included); 1 is break-even."),
    (
        "Members / reachable / active",
        "end-of-run stocks: consumers in the private domain; "
        "those who have not muted the brand; reachable members who bought within the active "
        "window.",
    ),
    (
        "Repurchase rate",
        "consumers who bought at least twice ÷ consumers who ever bought (end of run).",
    ),
    ("Referral rate", "new customers acquired via referral ÷ all new customers."),
    (
        "Fake member share",
        "fake accounts registered by coupon hunters ÷ (fakes + real new members).",
    ),
    (
        "LTV_h",
        "GMV in a customer's first h days ÷ customers acquired, over the cohorts that "
        "reached age h within the run, by acquisition source; '–' when no cohort did.",
    ),
    (
        "Youzan triangle",
        "ownership = reachable members; single-customer value = LTV365 (or "
        "LTV90 when no cohort reached a year) × repurchase rate; referral rate as above.",
    ),
    (
        "FAST",
        "end-of-run stocks: reachable members, engaged members (engagement at least "
        "population.engaged_threshold), members, active members.",
    ),
    (
        "Retention cost per repeat order",
        "serving cost (the serving part above) ÷ repeat orders placed by members; compare "
        "with CAC (Kotler's 5x).",
    ),
    (
        "CPM",
        "yuan per 1000 ad impressions on the platform (one market price per day; "
        "averaged over the window).",
    ),
)


def _cohort_sizes(ledger: pd.DataFrame, panels: Sequence[str]) -> dict[str, dict[str, dict]]:
    """Customers behind each LTV bar (sums of the ledger's cohort counters), for labels."""
    out: dict[str, dict[str, dict]] = {}
    for p in panels:
        rows = ledger if p == MARKET else ledger[ledger["brand"] == p]
        per: dict[str, dict] = {}
        for h in (90, 365):
            n = {s: float(rows[f"cohort{h}_n_{s}"].sum()) for s in SOURCES_CUSTOMER}
            n["all"] = sum(n.values())
            per[str(h)] = n
        out[p] = per
    return out


# --------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its file in figures/, title, caption, and how it is
    drawn (`draw(path)` writes the PNG)."""

    file: str
    title: str
    caption: str
    draw: Callable[[Path], None]


@dataclass(frozen=True)
class FigurePlan:
    """A run report's figures, with what the page around them needs: the days the ledger
    covers, the focus brands and the cost window (`figure_plan`)."""

    days: int
    focus: list[str]
    window: int
    figures: list[Figure]

    def draw(self, folder: Path) -> None:
        """Write every figure into `folder`, in the report's style."""
        folder.mkdir(parents=True, exist_ok=True)
        with matplotlib.rc_context(style()):
            for f in self.figures:
                f.draw(folder / f.file)


@dataclass
class PendingFigures:
    """A report's figures planned, and being drawn on the second core where that is
    possible (`start_figures`; `drawing` is None where they are drawn when written)."""

    plan: FigurePlan
    drawing: Drawing | None

    def discard(self) -> None:
        """Stop the drawing, if any, and remove its files (the report was not written)."""
        if self.drawing is not None:
            self.drawing.discard()


def figure_plan(result: RunResult) -> FigurePlan:
    """The run report's figures for a finished run: the series they plot are computed
    here, once; the drawing is left to `FigurePlan.draw`."""
    summary, ledger, sc = result.summary, result.ledger, result.scenario
    kpis = summary["kpis"]
    days = int(ledger["day"].max()) + 1 if len(ledger) else sc.run.days
    brands = list(kpis["brands"])
    several = len(brands) > 1
    focus = focus_brands(kpis)
    panels = _panels(brands, focus)
    colors = brand_colors(brands)
    window = cost_window(days)
    stock_window = 7 if days >= 60 else 1

    monthly = _series(ledger, 30, True)
    monthly_mkt = _series(ledger, 30, False)
    cost = _series(ledger, window, True)
    cost_mkt = _series(ledger, window, False)
    stocks = _series(ledger, stock_window, True)
    sizes = _cohort_sizes(ledger, panels)
    figs = [
        Figure(
            "penetration.png",
            "Penetration path",
            "Share of each 30-day window's GMV placed in the brand's own channels "
            "(solid) and credited to the private domain (dashed)"
            + ("; the thick black line is the market" if several else "")
            + ". A rising solid line means orders are moving off the platform.",
            partial(fig_penetration, monthly, monthly_mkt, focus, colors, several),
        ),
        Figure(
            "cac_roi.png",
            "Acquisition cost and return",
            f"Top: yuan paid per new customer in each {window}-day window, by "
            "source (lower is better). Bottom: gross profit per yuan spent (above "
            "the red dotted line means the window paid for itself). Gaps mean the "
            "KPI is undefined in that window (no such customers or no such cost).",
            partial(fig_cost_roi, cost, cost_mkt, panels, window),
        ),
        Figure(
            "funnel_stocks.png",
            "Funnel stocks",
            "Every consumer's state towards each brand at the end of each week "
            "(the bands add up to the population); a growing green base means the "
            "brand is turning shoppers into customers and members.",
            partial(fig_stocks, stocks, focus, sc.run.consumers),
        ),
        Figure(
            "gmv_channels.png",
            "GMV by channel",
            f"GMV per {window}-day window, stacked by where the order was placed; "
            "the orange slice is the private shop. A hatched bar is a shorter last "
            "window (its height is not comparable).",
            partial(fig_gmv_channels, cost, cost_mkt, panels, window),
        ),
        Figure(
            "ltv.png",
            "LTV by acquisition source",
            "Average GMV in a customer's first 90 (left) and 365 (right) days, by "
            "how the customer first heard of the brand; missing bars had no cohort "
            "old enough"
            + (
                ", and n is the number of customers behind a bar (small n is noisy)"
                if len(panels) <= 3
                else ""
            )
            + ".",
            partial(fig_ltv, kpis, panels, colors, sizes),
        ),
        Figure(
            "traffic.png",
            "Traffic cost and ads ROAS",
            "Left: the platform's price of 1000 ad impressions (the fading traffic "
            "dividend when it climbs). Right: first-order GMV per yuan of ads; "
            "below the dotted line, ads do not pay back on the first order.",
            partial(fig_traffic, cost, cost_mkt, focus, colors, several, window),
        ),
    ]
    spans = festival_spans(sc.calendar, days)
    if spans:  # the calendar: only a scenario with festivals has this figure
        figs.append(
            Figure(
                "calendar.png",
                "Festival calendar",
                "The market day by day: the platform's CPM, GMV and private-domain "
                "touches, with the festival days of the calendar shaded (618, Double 11 "
                "and the scenario's own festivals).",
                partial(fig_calendar, ledger, spans),
            )
        )
    return FigurePlan(days, focus, window, figs)


def start_figures(result: RunResult, near: Path) -> PendingFigures:
    """Plan the run report's figures and start drawing them on the second core
    (`sim.present.forked`, into a scratch folder made in folder `near`), so that they are
    drawn while the caller goes on (the twin's replicates); `write_report` takes them.
    Where they cannot be drawn aside, they are drawn when the report is written."""
    plan = figure_plan(result)
    return PendingFigures(plan, draw_aside(plan.draw, [f.file for f in plan.figures], near))


def write_report(result: RunResult, folder: Path, figures: PendingFigures | None = None) -> None:
    """Write `report.md` and `figures/*.png` for a finished run into `folder`: the figures
    `start_figures` drew aside for this result where it was called (`figures`), else drawn
    here; the same files either way."""
    folder = Path(folder)
    figdir = folder / FIGURES
    figdir.mkdir(parents=True, exist_ok=True)
    pending = figures if figures is not None else PendingFigures(figure_plan(result), None)
    plan = pending.plan
    if pending.drawing is None or not pending.drawing.take(figdir):
        plan.draw(figdir)
    pending.drawing = None
    figs = [(f.file, f.title, f.caption) for f in plan.figures]
    text = _markdown(result, plan.days, plan.focus, plan.window, figs)
    (folder / "report.md").write_text(text, encoding="utf-8")


def _markdown(
    result: RunResult,
    days: int,
    focus: Sequence[str],
    window: int,
    figs: Sequence[tuple[str, str, str]],
) -> str:
    """The page: header, headline, KPI and triangle tables, figures, definitions."""
    summary = result.summary
    kpis = summary["kpis"]
    brands = list(kpis["brands"])
    lines: list[str] = [f"# {summary['scenario']}", ""]
    if summary.get("description"):
        lines += [summary["description"], ""]
    if summary.get("source_case"):
        lines += [f"*Source case:* {summary['source_case']}", ""]
    regions = summary.get("regions", 1)
    split = (
        f" in {regions} regions (`--regions`: the same market per consumer, no tie, store "
        "visit or guide crossing a region)"
        if regions > 1
        else ""
    )
    lines += [
        f"Seed {summary['seed']} · {days} days · {summary['consumers']:,} consumers{split} · "
        f"{len(brands)} brand{'s' if len(brands) != 1 else ''} ({', '.join(brands)}) · "
        f"engine `{summary['engine']}` · siyu {summary['version']}",
        "",
        "## Headline",
        "",
    ]
    said = headline(summary, days)
    cut = said.index(ATTRIBUTION_LEAD)
    lines += [" ".join(said[:cut]), "", " ".join(said[cut:]), ""]
    notices = budget_notices(result.ledger) + lifecycle_notices(result.ledger)
    if notices:
        lines += [" ".join(notices), ""]
    fx = summary.get("effects")
    if fx:
        lines += [
            "## Effects against the counterfactual twin",
            "",
            f"The scenario minus its twin `{fx['twin']}` ({fx['description']}): both ran with "
            f"seeds {fx['seeds'][0]}–{fx['seeds'][-1]}, pair *k* sharing seed *k* (common random "
            f"numbers); each cell is the mean of {fx['pairs']} paired differences with its 95% "
            "interval in brackets (a t-interval; for incremental ROI and payback day a "
            "percentile bootstrap over replicates). Marketing cost is every cost but the "
            "platform's commission; payback day is the first day from which the cumulative "
            "Δ contribution stays at or above 0 (none: not within the run). `effects.csv` has "
            "every incremental KPI; docs/KPIS.md defines them."
            + (f" The intervals carry {fx['carries']}." if fx.get("parameters") else ""),
            "",
            effects_table(fx),
            "",
        ]
        if fx.get("failed"):
            lines += [f"{len(fx['failed'])} run(s) failed; their pairs are left out.", ""]
    lines += [
        "## Attributed KPIs over the whole run (attribution, not effects)",
        "",
        "What the ledger credits to each channel and source in the seed's run; an attributed "
        "ROI or CAC says where money and customers were booked, not what a strategy adds"
        + (" (the effects above do)." if fx else "."),
        "",
        kpi_table(kpis),
        "",
        "Money in yuan. “–” means the KPI is undefined because its denominator is zero "
        "(for example no private-domain cost for a brand without private operations, or no "
        "cohort old enough for an LTV). In the market column, flows are summed over brands "
        "and end-of-run stocks too, so a consumer who is a member of two brands counts twice.",
        "",
        "## Youzan triangle and FAST stocks (end of run)",
        "",
        triangle_table(kpis),
        "",
        *frameworks_section(result, focus),
        "## Figures",
        "",
    ]
    if len(focus) < len(brands):
        lines += [
            f"With {len(brands)} brands, per-brand figures show the {len(focus)} largest "
            f"by GMV ({', '.join(focus)}) and the market.",
            "",
        ]
    notes = []
    for w in sorted({30, window}):
        tail = _tail_days(days, w)
        if tail and tail < w / 2:
            notes.append(
                f"the last {tail} day{'s' if tail != 1 else ''} of the run do not "
                f"fill a {w}-day window and are left out of the {w}-day series"
            )
    if notes:
        lines += ["Note: " + "; ".join(notes) + " (they are in the tables above).", ""]
    for i, (file, title, caption) in enumerate(figs, start=1):
        lines += [f"### {i}. {title}", "", f"![{title}]({FIGURES}/{file})", "", f"*{caption}*", ""]
    lines += [
        "## Definitions",
        "",
        "As computed in `sim/kpis.py` from the daily ledger (`metrics.parquet`).",
        "",
    ]
    lines += [f"- **{name}**: {text}" for name, text in DEFINITIONS]
    lines.append("")
    return "\n".join(lines)
