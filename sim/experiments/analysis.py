"""Analysis of a sweep's results: response plots and heatmaps for grids, rank correlations
for Latin hypercubes, Sobol' and Morris indices with bootstrap confidence intervals (SALib).

Everything works on replicate means: the KPI of a design point is the mean over its
finished replicates, shown with its spread (sd, t-interval, n); a point is never named
highest or lowest without its interval and whether the next point's overlaps it. Kept
paths (paths.parquet) are drawn as mean paths with a band over replicates. Figures use the
reports' style (`sim.present.figures`: bare matplotlib
Figures on the Agg canvas in a local seaborn style), so they are deterministic; titles, axes
and report text name KPIs in words with their units (`sim.present.labels`), shares as
percentages, and a heatmap outlines the cells inside the target band an experiment states.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle
from scipy import stats

from sim.experiments.design import Design
from sim.experiments.paths import DAYS_TO
from sim.experiments.spec import MARKET, Experiment, parse_metric
from sim.present.figures import figure, save, style
from sim.present.format import fmt_number, short
from sim.present.labels import (
    axis_label,
    fits,
    fmt_value,
    fmt_width,
    kpi_label,
    series_label,
    share_axis,
    wrap,
)
from sim.present.tables import md_table_plain

FIGURES = "figures"
LABEL_WIDTH = 32
"""Characters per line of a KPI's y-axis label (longer labels wrap)."""
MAX_SERIES = 6
"""At most this many KPI series get their own response figure."""


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (relative path, caption)


def series_name(brand: str, metric: str) -> str:
    return f"{MARKET}.{metric}" if brand == MARKET else f"brands.{brand}.{metric}"


def point_means(results: pd.DataFrame, conf_level: float = 0.95) -> pd.DataFrame:
    """One row per (point, brand, metric): mean, sd and count `n` of the finished replicates
    that define the KPI, `runs` (finished replicates), and `half`, the half-width of the
    `conf_level` t-interval of the mean over replicates (NaN with fewer than 2)."""
    g = results.groupby(["point", "brand", "metric"], sort=True)["value"]
    out = g.agg(mean="mean", sd="std", n="count", runs="size").reset_index()
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + conf_level / 2, np.where(n > 1, n - 1, np.nan))
        out["half"] = q * out["sd"].to_numpy(dtype=float) / np.sqrt(n)
    return out


def spread_of(means: pd.DataFrame, brand: str, metric: str, n_points: int) -> pd.DataFrame:
    """mean, sd, half, n, runs of one series by point index (NaN rows for points without runs)."""
    s = means[(means["brand"] == brand) & (means["metric"] == metric)].set_index("point")
    cols = ["mean", "sd", "half", "n", "runs"]
    return s[cols].reindex(range(n_points))


def fmt_spread(row: pd.Series, metric: str = "") -> str:
    """A point's mean with its spread: `75,578 ± 122,890 (sd 13,678, n 2)`; a mean of one
    replicate has no interval; a `days_to` metric says how many replicates reached it."""
    if not np.isfinite(row["mean"]):
        runs = row["runs"]
        return "never reached" if metric.startswith(DAYS_TO) and runs > 0 else fmt_number(None)
    text = fmt_value(row["mean"], metric)
    if np.isfinite(row["half"]):
        half, sd = fmt_width(row["half"], metric), fmt_width(row["sd"], metric)
        text += f" ± {half} (sd {sd}, n {int(row['n'])})"
    else:
        text += f" (n {int(row['n'])}, no interval)"
    if metric.startswith(DAYS_TO) and row["n"] < row["runs"]:
        text += f"; reached in {int(row['n'])} of {int(row['runs'])} runs"
    return text


def series_list(exp: Experiment, results: pd.DataFrame) -> list[tuple[str, str]]:
    """(brand, metric) series in the order of the experiment's metrics."""
    present = set(zip(results["brand"], results["metric"], strict=True))
    out: list[tuple[str, str]] = []
    for m in exp.metrics:
        who, name = parse_metric(m, ())
        brands = sorted({b for b, k in present if k == name and b != MARKET})
        for b in [MARKET] if who == MARKET else (brands if who == "*" else [who]):
            if (b, name) in present and (b, name) not in out:
                out.append((b, name))
    return out


def matrix(means: pd.DataFrame, brand: str, metric: str, n_points: int) -> np.ndarray:
    """Replicate means of one series by point index (NaN where no replicate finished)."""
    s = means[(means["brand"] == brand) & (means["metric"] == metric)].set_index("point")["mean"]
    return s.reindex(range(n_points)).to_numpy(dtype=float)


def _design_frame(exp: Experiment, design: Design) -> pd.DataFrame:
    """Design points as labels (one column per factor) indexed by point."""
    return pd.DataFrame(
        [{k: exp.factors[k].label(p[k]) for k in design.keys} for p in design.points]
    )


def _numeric(exp: Experiment, key: str) -> bool:
    f = exp.factors[key]
    if f.values is None:
        return True
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in f.values)


# --------------------------------------------------------------------------- grid


def _level_order(exp: Experiment, key: str, design: Design) -> list[str]:
    f = exp.factors[key]
    levels = f.grid_levels() if exp.design == "grid" else sorted({p[key] for p in design.points})
    return [f.label(v) for v in levels]


def fig_responses(
    exp: Experiment, design: Design, results: pd.DataFrame, brand: str, metric: str, path: Path
) -> None:
    """One panel per factor: the KPI's mean over runs at each level, with a 95% CI."""
    keys = design.keys
    labels = _design_frame(exp, design)
    runs = results[(results["brand"] == brand) & (results["metric"] == metric)]
    runs = runs.join(labels.add_suffix("_label"), on="point")
    with matplotlib.rc_context(style()):
        fig, axes = figure(min(len(keys), 4), (len(keys) + 3) // 4, 3.2, 2.7)
        for ax, key in zip(axes.flat, keys, strict=False):
            col = key + "_label"
            order = _level_order(exp, key, design)
            g = runs.groupby(col)["value"]
            mean = g.mean().reindex(order)
            n = g.count().reindex(order)
            sem = g.std().reindex(order) / np.sqrt(n)
            half = sem * stats.t.ppf(0.975, np.maximum(n - 1, 1))
            x = np.arange(len(order))
            ax.errorbar(x, mean, yerr=half, marker="o", capsize=3, color="#4c72b0")
            ax.set_xticks(x, order, rotation=30 if max(map(len, order)) > 6 else 0)
            ax.set_xlabel(short(key, keys))
            if metric.startswith("roi"):
                ax.axhline(1.0, color="#c0392b", lw=1.2, ls=":")
        for ax in axes.flat[len(keys) :]:
            ax.set_visible(False)
        for ax in axes.flat[: len(keys)]:
            share_axis(ax, metric)
        axes.flat[0].set_ylabel(wrap(axis_label(brand, metric), LABEL_WIDTH))
        title = f"{series_label(brand, metric)} by factor (mean of runs, 95% CI)"
        fig.suptitle(fits(fig, title), fontsize=10)
        save(fig, path)


def fig_heatmap(
    exp: Experiment,
    design: Design,
    means: pd.DataFrame,
    x: str,
    y: str,
    facet: str | None,
    brand: str,
    metric: str,
    path: Path,
    band: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Mean KPI over x × y (averaged over the other factors), one panel per facet level;
    a cell that is one design point shows the half-width of its t-interval over replicates
    under its mean; cells whose mean lies in `band` (a target range) are outlined in red."""
    labels = _design_frame(exp, design)
    vals = means[(means["brand"] == brand) & (means["metric"] == metric)].set_index("point")
    df = labels.join(vals[["mean", "half"]])
    facets = _level_order(exp, facet, design) if facet else [None]
    xo, yo = _level_order(exp, x, design), _level_order(exp, y, design)
    tables, halves = [], []
    for lev in facets:
        sub = df if lev is None else df[df[facet] == lev]
        tables.append(
            sub.pivot_table(index=y, columns=x, values="mean", dropna=False).reindex(
                index=yo, columns=xo
            )
        )
        one = sub.groupby([y, x])["half"].agg(lambda h: h.iloc[0] if len(h) == 1 else np.nan)
        halves.append(one.unstack(x).reindex(index=yo, columns=xo).to_numpy(dtype=float))
    finite = np.concatenate([t.to_numpy().ravel() for t in tables])
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    kw: dict[str, Any] = {"cmap": "viridis", "vmin": lo, "vmax": hi}
    if metric.startswith("roi"):  # break-even (1) in the middle of a red-to-green scale
        from matplotlib.colors import TwoSlopeNorm

        lo, hi = min(lo, 1.0 - 1e-3), max(hi, 1.0 + 1e-3)
        kw = {"cmap": "RdYlGn", "norm": TwoSlopeNorm(1.0, lo, hi)}
    with matplotlib.rc_context({**style(), "axes.grid": False}):
        fig, axes = figure(len(facets), 1, 3.6, 3.3, legend_w=0.8)
        for ax, lev, t, half in zip(axes.flat, facets, tables, halves, strict=True):
            im = ax.imshow(t.to_numpy(dtype=float), origin="lower", aspect="auto", **kw)
            ax.set_xticks(range(len(xo)), xo)
            ax.set_yticks(range(len(yo)), yo)
            ax.set_xlabel(short(x, design.keys))
            ax.set_ylabel(short(y, design.keys))
            for (i, j), v in np.ndenumerate(t.to_numpy(dtype=float)):
                inside = band is not None and band[0] <= v <= band[1]
                if inside:
                    ax.add_patch(
                        Rectangle(
                            (j - 0.5, i - 0.5), 1, 1, fill=False, ec="#c0392b", lw=2.4, hatch="//"
                        )
                    )
                spread = half[i, j]
                ax.text(
                    j,
                    i,
                    fmt_value(v, metric)
                    + (f"\n± {fmt_width(spread, metric)}" if np.isfinite(spread) else ""),
                    ha="center",
                    va="center",
                    fontsize=7 if np.isfinite(spread) else 8,
                    color="black",
                    bbox={"facecolor": "white", "alpha": 0.6, "lw": 0, "pad": 1},
                )
            if lev is not None:
                ax.set_title(f"{short(facet or '', design.keys)} = {lev}")
        unit = kpi_label(metric)[1]
        bar = fig.colorbar(im, ax=list(axes.flat), shrink=0.9, label=unit or None)
        share_axis(bar.ax, metric)
        title = f"{axis_label(brand, metric)}: mean over replicates"
        if band is not None:
            lo, hi = fmt_value(band[0], metric), fmt_value(band[1], metric)
            title += f"\n(outlined, hatched: in the target band {lo}–{hi})"
        fig.suptitle(fits(fig, title), fontsize=10)
        save(fig, path)
    out = pd.concat(tables, keys=[str(f) for f in facets], names=["facet"]) if facet else tables[0]
    return out


def analyse_grid(
    exp: Experiment, design: Design, results: pd.DataFrame, folder: Path
) -> list[Section]:
    means = point_means(results, exp.analysis.conf_level)
    sections: list[Section] = []
    series = series_list(exp, results)
    heatmaps = list(exp.analysis.heatmaps)
    if not heatmaps and len(design.keys) >= 2 and series:
        b, m = series[0]
        heatmaps = [
            _Heat(design.keys[0], design.keys[1], series_name(b, m), None)  # type: ignore[list-item]
        ]
    for i, h in enumerate(heatmaps):
        for brand, metric in _targets(h.metric, series):
            name = f"heatmap_{i + 1}_{brand}_{metric}.png".replace("/", "_")
            band = getattr(h, "band", None)
            table = fig_heatmap(
                exp,
                design,
                means,
                h.x,
                h.y,
                h.facet,
                brand,
                metric,
                folder / FIGURES / name,
                tuple(band) if band is not None else None,
            )
            sec = Section(
                f"{series_label(brand, metric)} over {short(h.x, design.keys)} × "
                f"{short(h.y, design.keys)}"
                + (f" by {short(h.facet, design.keys)}" if h.facet else "")
            )
            sec.figures.append(
                (f"{FIGURES}/{name}", _heat_caption(h, design, metric, exp.analysis.conf_level))
            )
            sec.text.append(_best_text(exp, design, means, brand, metric))
            if getattr(h, "band", None) is not None:
                sec.text.append(_band_text(exp, design, means, brand, metric, h.band))
            sections.append(sec)
            del table
    if exp.analysis.responses:
        for brand, metric in series[:MAX_SERIES]:
            name = f"response_{brand}_{metric}.png".replace("/", "_")
            fig_responses(exp, design, results, brand, metric, folder / FIGURES / name)
            sec = Section(f"How {series_label(brand, metric)} responds to each factor")
            sec.figures.append(
                (
                    f"{FIGURES}/{name}",
                    "Each panel: the KPI's mean over all runs at each level of "
                    "one factor (the others averaged over), with a 95% t-interval over runs.",
                )
            )
            sections.append(sec)
    sections.append(points_table(exp, design, means, series))
    return sections


@dataclass
class _Heat:
    x: str
    y: str
    metric: str
    facet: str | None


def _targets(metric: str, series: list[tuple[str, str]]) -> list[tuple[str, str]]:
    who, name = parse_metric(metric, ())
    return [(b, m) for b, m in series if m == name and (who in ("*", b))]


def _heat_caption(h: Any, design: Design, metric: str, conf: float = 0.95) -> str:
    text = (
        f"Each cell: the mean over replicates (and over the other factors) at one "
        f"{short(h.x, design.keys)} × {short(h.y, design.keys)} combination, and under it "
        f"± the half-width of its {100 * conf:g}% t-interval over replicates where the cell "
        "is one design point; each point's spread (sd, t-interval, n) is in the design points "
        "table below."
    )
    if metric.startswith("roi"):
        text += " Green pays back (ROI above 1, gross profit per yuan of cost), red does not."
    band = getattr(h, "band", None)
    if band is not None:
        lo, hi = fmt_value(band[0], metric), fmt_value(band[1], metric)
        text += f" Outlined and hatched: cells whose mean is in the target band {lo}–{hi}."
    return text


def _where(exp: Experiment, design: Design, p: int) -> str:
    return ", ".join(
        f"{short(k, design.keys)} = {exp.factors[k].label(design.points[p][k])}"
        for k in design.keys
    )


def _interval(sp: pd.DataFrame, p: int, pct: str, metric: str = "") -> str:
    """`75,578 (95% CI −46,000 to 197,000; sd 13,678; n 2)` for point p (a share in %)."""
    r = sp.loc[p]
    if not np.isfinite(r["half"]):
        return f"{fmt_value(r['mean'], metric)} (n {int(r['n'])}: no interval)"
    lo, hi = r["mean"] - r["half"], r["mean"] + r["half"]
    return (
        f"{fmt_value(r['mean'], metric)} ({pct} CI {fmt_value(lo, metric)} to "
        f"{fmt_value(hi, metric)}; sd {fmt_width(r['sd'], metric)}; n {int(r['n'])})"
    )


def overlapping(sp: pd.DataFrame, p: int) -> list[int]:
    """The other points whose t-intervals overlap point p's (a point without an interval
    overlaps everything: it cannot be told apart)."""
    lo = sp["mean"] - sp["half"]
    hi = sp["mean"] + sp["half"]
    out = []
    for q in sp.index[np.isfinite(sp["mean"].to_numpy(dtype=float))]:
        if q == p:
            continue
        unknown = not (np.isfinite(sp.at[q, "half"]) and np.isfinite(sp.at[p, "half"]))
        if unknown or (lo[q] <= hi[p] and lo[p] <= hi[q]):
            out.append(int(q))
    return out


def _extreme_text(
    exp: Experiment,
    design: Design,
    sp: pd.DataFrame,
    order: list[int],
    word: str,
    pct: str,
    metric: str = "",
) -> str:
    """`Highest …: value (CI) at …; not distinguishable from the runner-up …` (order: the
    points from the extreme inwards)."""
    p, rest = order[0], order[1:]
    text = f"{word}: **{_interval(sp, p, pct, metric)}** at {_where(exp, design, p)}"
    if not rest:
        return text
    nxt = rest[0]
    if not np.isfinite(sp.at[p, "half"]):
        return (
            text + f"; with fewer than 2 replicates a point has no interval, so it cannot be "
            f"told from the next, {_interval(sp, nxt, pct, metric)} at {_where(exp, design, nxt)} "
            "(raise `replicates`)"
        )
    close = overlapping(sp, p)
    if close:
        q = next(r for r in rest if r in close)  # the overlapping point nearest the extreme
        more = len(close) - 1
        return (
            text
            + f"; not distinguishable from {'the next, ' if q == nxt else ''}"
            + f"{_interval(sp, q, pct, metric)} at {_where(exp, design, q)} (the {pct} intervals "
            "overlap"
            + (
                f"; {more} more point{'s overlap' if more > 1 else ' overlaps'} it too"
                if more
                else ""
            )
            + ")"
        )
    return (
        text + f"; its {pct} interval is clear of every other point's (the next: "
        f"{_interval(sp, nxt, pct, metric)} at {_where(exp, design, nxt)})"
    )


def _best_text(
    exp: Experiment, design: Design, means: pd.DataFrame, brand: str, metric: str
) -> str:
    """The highest and lowest points with their intervals over replicates, and whether the
    next point's interval overlaps (then the data do not single the point out)."""
    sp = spread_of(means, brand, metric, len(design))
    vals = sp["mean"].to_numpy(dtype=float)
    ok = np.isfinite(vals)
    if not ok.any():
        return "No finished run defines this KPI."
    pct = f"{100 * exp.analysis.conf_level:g}%"
    idx = np.flatnonzero(ok)
    high = [int(i) for i in idx[np.argsort(-vals[idx], kind="stable")]]
    low = [int(i) for i in idx[np.argsort(vals[idx], kind="stable")]]
    name = series_label(brand, metric)
    return (
        _extreme_text(exp, design, sp, high, f"Highest {name}", pct, metric)
        + ". "
        + _extreme_text(exp, design, sp, low, "Lowest", pct, metric)
        + "."
    )


def _band_text(
    exp: Experiment,
    design: Design,
    means: pd.DataFrame,
    brand: str,
    metric: str,
    band: tuple[float, float],
) -> str:
    """Which design points reach a target range of the KPI (and which go beyond it)."""
    vals = matrix(means, brand, metric, len(design))
    lo, hi = band

    sp = spread_of(means, brand, metric, len(design))

    def where(p: int) -> str:
        return f"{_where(exp, design, p)} ({fmt_spread(sp.loc[p], metric)})"

    inside = [where(p) for p in range(len(design)) if lo <= vals[p] <= hi]
    above = [where(p) for p in range(len(design)) if vals[p] > hi]
    text = (
        f"Target {fmt_value(lo, metric)}–{fmt_value(hi, metric)} of {series_label(brand, metric)}: "
    )
    text += ("reached at " + "; ".join(inside)) if inside else "reached at no point"
    if above:
        text += ". Beyond it at " + "; ".join(above)
    return text + "."


def points_table(
    exp: Experiment, design: Design, means: pd.DataFrame, series: list[tuple[str, str]]
) -> Section:
    labels = _design_frame(exp, design)
    cols = series[:8]
    header = [short(k, design.keys) for k in design.keys] + [axis_label(b, m) for b, m in cols]
    spreads = [spread_of(means, b, m, len(design)) for b, m in cols]
    rows = []
    for p in range(min(len(design), 60)):
        rows.append(
            [labels.at[p, k] for k in design.keys]
            + [fmt_spread(sp.loc[p], m) for sp, (_, m) in zip(spreads, cols, strict=True)]
        )
    pct = f"{100 * exp.analysis.conf_level:g}%"
    sec = Section("Design points (mean over replicates, with its spread)")
    sec.text.append(
        f"Each cell: the mean over the point's replicates ± the half-width of its {pct} "
        "t-interval (Student t with n − 1 degrees of freedom), the replicates' standard "
        "deviation sd and their number n. Points whose intervals overlap are not told "
        "apart by these runs. A `days_to` cell is the mean over the runs that reached the "
        "threshold (how many, when not all did); `never reached` when none did."
    )
    sec.text.append(md_table_plain(header, rows))
    if len(design) > 60:
        sec.text.append(f"({len(design) - 60} more points in results.parquet)")
    return sec


# --------------------------------------------------------------------------- lhs


def analyse_lhs(
    exp: Experiment, design: Design, results: pd.DataFrame, folder: Path
) -> list[Section]:
    means = point_means(results)
    series = series_list(exp, results)
    keys = design.keys
    rows = []
    for b, m in series:
        y = matrix(means, b, m, len(design))
        cells = [series_label(b, m)]
        for k in keys:
            cells.append(spearman_text(_codes(exp, design, k), y))
        rows.append(cells)
    sec = Section("Rank correlation of each KPI with each factor (Spearman, point means)")
    sec.text.append(
        "Each cell: Spearman's ρ between the factor and the KPI's mean over a point's "
        "replicates, its two-sided p-value (H0: no monotone association; scipy) and n, the "
        "points that define the KPI. With few points only strong correlations are told from "
        "0; a p-value below 0.05 is in bold."
    )
    sec.text.append(md_table_plain(["KPI", *[short(k, keys) for k in keys]], rows))
    sections = [sec]
    if exp.analysis.responses:
        for b, m in series[:MAX_SERIES]:
            name = f"scatter_{b}_{m}.png"
            fig_scatter(exp, design, means, b, m, folder / FIGURES / name)
            s = Section(f"{series_label(b, m)} across the sampled points")
            s.figures.append(
                (
                    f"{FIGURES}/{name}",
                    "Each dot: one design point's mean over replicates, against each factor.",
                )
            )
            sections.append(s)
    return sections


def spearman_text(x: np.ndarray, y: np.ndarray) -> str:
    """`0.62 (p 0.001, n 30)`: Spearman's ρ of the finite pairs with its p-value and count
    (bold when p < 0.05); a dash with n when fewer than 3 pairs or a constant side."""
    ok = np.isfinite(y) & np.isfinite(x)
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return f"{fmt_number(None)} (n {n})"
    res = stats.spearmanr(x[ok], y[ok])
    rho, p = float(res.statistic), float(res.pvalue)
    p_text = f"p {p:.2g}" if p >= 0.001 else "p < 0.001"
    text = f"{rho:.2f} ({p_text}, n {n})"
    return f"**{text}**" if p < 0.05 else text


def _codes(exp: Experiment, design: Design, key: str) -> np.ndarray:
    """Factor values as numbers: the value for a numeric factor, the level index otherwise."""
    f = exp.factors[key]
    if _numeric(exp, key):
        return np.array([float(p[key]) for p in design.points])
    index = {f.label(v): i for i, v in enumerate(f.values or [])}
    return np.array([index[f.label(p[key])] for p in design.points], dtype=float)


def fig_scatter(
    exp: Experiment, design: Design, means: pd.DataFrame, brand: str, metric: str, path: Path
) -> None:
    keys = design.keys
    y = matrix(means, brand, metric, len(design))
    with matplotlib.rc_context(style()):
        fig, axes = figure(min(len(keys), 4), (len(keys) + 3) // 4, 3.0, 2.6)
        for ax, key in zip(axes.flat, keys, strict=False):
            ax.scatter(_codes(exp, design, key), y, s=12, alpha=0.7, color="#4c72b0")
            ax.set_xlabel(short(key, keys))
            if not _numeric(exp, key):
                vals = exp.factors[key].values or []
                ax.set_xticks(range(len(vals)), [exp.factors[key].label(v) for v in vals])
            if metric.startswith("roi"):
                ax.axhline(1.0, color="#c0392b", lw=1.2, ls=":")
            share_axis(ax, metric)
        for ax in axes.flat[len(keys) :]:
            ax.set_visible(False)
        axes.flat[0].set_ylabel(wrap(axis_label(brand, metric), LABEL_WIDTH))
        title = f"{series_label(brand, metric)}: one dot per design point"
        fig.suptitle(fits(fig, title), fontsize=10)
        save(fig, path)


# --------------------------------------------------------------------------- sobol / morris


def sensitivity_indices(exp: Experiment, design: Design, y: np.ndarray) -> pd.DataFrame | None:
    """Sobol' (S1, ST) or Morris (mu*, sigma) indices with bootstrap CIs, one row per factor;
    None when some point has no finished run or the KPI does not vary."""
    if not np.isfinite(y).all() or np.nanstd(y) == 0:
        return None
    cl, nr = exp.analysis.conf_level, exp.analysis.resamples
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if exp.design == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(
                design.problem,
                y,
                calc_second_order=False,
                num_resamples=nr,
                conf_level=cl,
                seed=exp.seed,
            )
            cols = ["S1", "S1_conf", "ST", "ST_conf"]
        else:
            from SALib.analyze import morris

            si = morris.analyze(
                design.problem,
                design.unit,
                y,
                num_resamples=nr,
                conf_level=cl,
                num_levels=exp.levels,
                seed=exp.seed,
            )
            cols = ["mu", "mu_star", "mu_star_conf", "sigma"]
    return pd.DataFrame({c: np.asarray(si[c], dtype=float) for c in cols}, index=design.keys)


def index_text(value: float, conf: float) -> str:
    """`0.42 ± 0.08`; a negative estimate clipped: `0* (est. −0.05) ± 0.08`."""
    if value < 0:
        return f"0* (est. {value:.2f}) ± {conf:.2f}".replace("-", "−")
    return f"{value:.2f} ± {conf:.2f}"


def fig_sobol(tables: dict[str, pd.DataFrame], keys: list[str], path: Path) -> None:
    with matplotlib.rc_context(style()):
        n = len(tables)
        fig, axes = figure(min(n, 2), (n + 1) // 2, 4.6, 0.45 * len(keys) + 1.4)
        for ax, (name, t) in zip(axes.flat, tables.items(), strict=False):
            yy = np.arange(len(keys))
            ax.barh(
                yy - 0.2,
                t["S1"].clip(lower=0.0),
                0.4,
                xerr=t["S1_conf"],
                label="first order S1",
                color="#4c72b0",
                capsize=2,
            )
            ax.barh(
                yy + 0.2,
                t["ST"].clip(lower=0.0),
                0.4,
                xerr=t["ST_conf"],
                label="total ST",
                color="#dd8452",
                capsize=2,
            )
            ax.set_yticks(yy, [short(k, keys) for k in keys])
            ax.invert_yaxis()
            ax.axvline(0, color="#444", lw=0.8)
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("share of variance")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        axes.flat[0].legend(loc="lower right", fontsize=8)
        save(fig, path)


def fig_morris(tables: dict[str, pd.DataFrame], keys: list[str], path: Path) -> None:
    with matplotlib.rc_context(style()):
        n = len(tables)
        fig, axes = figure(min(n, 2), (n + 1) // 2, 4.2, 3.4)
        for ax, (name, t) in zip(axes.flat, tables.items(), strict=False):
            ax.errorbar(
                t["mu_star"],
                t["sigma"],
                xerr=t["mu_star_conf"],
                fmt="o",
                color="#4c72b0",
                capsize=2,
            )
            for k, row in t.iterrows():
                ax.annotate(
                    short(str(k), keys),
                    (row["mu_star"], row["sigma"]),
                    fontsize=7,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            ax.set_xlabel("mu* (mean |elementary effect|)")
            ax.set_ylabel("sigma (interaction / non-linearity)")
            ax.set_title(name, fontsize=9)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        save(fig, path)


def analyse_sensitivity(
    exp: Experiment, design: Design, results: pd.DataFrame, folder: Path
) -> list[Section]:
    means = point_means(results)
    series = series_list(exp, results)
    tables: dict[str, pd.DataFrame] = {}
    skipped = []
    for b, m in series:
        t = sensitivity_indices(exp, design, matrix(means, b, m, len(design)))
        if t is None:
            skipped.append(series_label(b, m))
        else:
            tables[series_label(b, m)] = t
    keys = design.keys
    pct = f"{100 * exp.analysis.conf_level:.0f}%"
    sections = []
    if exp.design == "sobol":
        sec = Section("Sobol' indices (first order S1 and total ST)")
        sec.text.append(
            f"Indices of the replicate means, {exp.samples} base samples × "
            f"({len(keys)} + 2) = {len(design)} points; ± is the {pct} bootstrap interval "
            f"({exp.analysis.resamples} resamples). S1: share of the KPI's variance a factor "
            "explains alone; ST: including its interactions. ST well above S1 means the "
            "factor matters through interactions; indices within their interval of 0 do not "
            "matter here. An index cannot be negative: a negative estimate (sampling error) is "
            "shown as 0, marked *, with its estimate beside it, and drawn as 0."
        )
        for name, t in tables.items():
            order = t.sort_values("ST", ascending=False)
            rows = [
                [short(str(k), keys), index_text(r.S1, r.S1_conf), index_text(r.ST, r.ST_conf)]
                for k, r in order.iterrows()
            ]
            top = order.iloc[0]
            lead = (
                f"**{name}**: the largest total effect is "
                f"{short(str(order.index[0]), keys)} (ST {index_text(top.ST, top.ST_conf)})"
            )
            if order["ST_conf"].max() > 0.2:
                lead += (
                    "; the intervals are wide at this many samples (raise `samples` to "
                    "sharpen the ranking)"
                )
            sec.text.append(
                lead
                + ". Ranked by total effect:\n\n"
                + md_table_plain(["factor", "S1", "ST"], rows)
            )
        if tables:
            fig_sobol(tables, keys, folder / FIGURES / "sobol.png")
            sec.figures.append(
                (
                    f"{FIGURES}/sobol.png",
                    f"Bars: S1 and ST with {pct} bootstrap intervals (whiskers); a negative "
                    "estimate is drawn as 0.",
                )
            )
    else:
        sec = Section("Morris elementary effects (mu*, sigma)")
        sec.text.append(
            f"{exp.samples} trajectories on {exp.levels} levels ({len(design)} points); effects "
            "are per full range of each factor (the unit cube), so mu* compares factors "
            f"directly; ± is the {pct} bootstrap interval of mu*."
        )
        for name, t in tables.items():
            order = t.sort_values("mu_star", ascending=False)
            rows = [
                [
                    short(str(k), keys),
                    f"{r.mu_star:.3g} ± {r.mu_star_conf:.2g}",
                    f"{r.mu:.3g}",
                    f"{r.sigma:.3g}",
                ]
                for k, r in order.iterrows()
            ]
            sec.text.append(
                f"**{name}**:\n\n" + md_table_plain(["factor", "mu*", "mu", "sigma"], rows)
            )
        if tables:
            fig_morris(tables, keys, folder / FIGURES / "morris.png")
            sec.figures.append(
                (
                    f"{FIGURES}/morris.png",
                    "Right: strong effect; up: the effect "
                    "depends on the other factors (interactions, non-linearity).",
                )
            )
    if skipped:
        sec.text.append(
            "Not analysed (a point without finished runs, an undefined KPI, or no "
            "variation): " + ", ".join(skipped) + "."
        )
    sections.append(sec)
    return sections


# --------------------------------------------------------------------------- paths

MAX_LINES = 9
"""At most this many lines (design points, else levels of the first factor) in a path figure."""


def path_groups(exp: Experiment, design: Design) -> tuple[dict[int, str], str]:
    """Which line each design point's runs join in a path figure, and what a line is: one
    per point when there are few, else one per level of a grid's first factor, else one
    line of all runs."""
    if len(design) <= MAX_LINES:
        return {p: _where(exp, design, p) for p in range(len(design))}, "design point"
    first = design.keys[0]
    if exp.design == "grid" and len(exp.factors[first].grid_levels()) <= MAX_LINES:
        f = exp.factors[first]
        label = short(first, design.keys)
        groups = {p: f"{label} = {f.label(pt[first])}" for p, pt in enumerate(design.points)}
        return groups, f"level of {label} (the other factors pooled)"
    return dict.fromkeys(range(len(design)), "all runs"), "all runs pooled"


def path_summary(paths: pd.DataFrame, groups: dict[int, str], conf_level: float) -> pd.DataFrame:
    """Per line and window: mean over runs, the t-interval's half-width, n, the window's
    last day (one series' rows of paths.parquet)."""
    df = paths.assign(group=paths["point"].map(groups))
    g = df.groupby(["group", "period"], sort=False)["value"]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    out["day"] = df.groupby(["group", "period"], sort=False)["day"].max().to_numpy()
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + conf_level / 2, np.where(n > 1, n - 1, np.nan))
        out["half"] = q * out["sd"].to_numpy(dtype=float) / np.sqrt(n)
    return out


def fig_paths(
    summary: pd.DataFrame,
    order: list[str],
    brand: str,
    metric: str,
    window: int,
    path: Path,
    limits: tuple[float, float] | None = None,
) -> None:
    """Mean path of each line with its band (t-interval over the line's runs); the y axis
    spans `limits` (the runs' own values), so a band wider than the data is cut at it."""
    with matplotlib.rc_context(style()):
        fig, axes = figure(1, 1, 6.4, 3.6, legend_w=2.6 if len(order) > 1 else 0.0)
        ax = axes.flat[0]
        colors = matplotlib.colormaps["tab10"]
        for i, name in enumerate(order):
            sub = summary[summary["group"] == name].sort_values("period")
            x = sub["day"].to_numpy(dtype=float) + 1
            m = sub["mean"].to_numpy(dtype=float)
            h = sub["half"].to_numpy(dtype=float)
            ax.plot(x, m, marker=".", color=colors(i % 10), label=name, lw=1.4)
            ax.fill_between(x, m - h, m + h, color=colors(i % 10), alpha=0.18, lw=0)
        if limits is not None and np.isfinite(limits).all() and limits[1] > limits[0]:
            pad = 0.05 * (limits[1] - limits[0])
            ax.set_ylim(limits[0] - pad, limits[1] + pad)
        ax.set_xlabel(f"day (end of each {window}-day window)")
        ax.set_ylabel(wrap(axis_label(brand, metric), LABEL_WIDTH))
        share_axis(ax, metric)
        ax.set_title(f"{series_label(brand, metric)} over the run", fontsize=10)
        if metric.startswith("roi"):
            ax.axhline(1.0, color="#c0392b", lw=1.2, ls=":")
        if len(order) > 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        save(fig, path)


def analyse_paths(
    exp: Experiment, design: Design, paths: pd.DataFrame, folder: Path
) -> list[Section]:
    """One figure per kept path series: the mean path of each line with a band over runs."""
    groups, what = path_groups(exp, design)
    order = list(dict.fromkeys(groups[p] for p in range(len(design))))
    pct = f"{100 * exp.analysis.conf_level:g}%"
    sections = []
    series = list(dict.fromkeys(zip(paths["brand"], paths["metric"], strict=True)))
    for brand, metric in series:
        sub = paths[(paths["brand"] == brand) & (paths["metric"] == metric)]
        summary = path_summary(sub, groups, exp.analysis.conf_level)
        name = f"path_{brand}_{metric}.png".replace("/", "_")
        values = sub["value"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        limits = (float(values.min()), float(values.max())) if values.size else None
        fig_paths(summary, order, brand, metric, exp.path_window, folder / FIGURES / name, limits)
        sec = Section(f"Path of {series_label(brand, metric)} over the run")
        sec.figures.append(
            (
                f"{FIGURES}/{name}",
                f"Each line: one {what}, the mean over its runs of the KPI in each "
                f"{exp.path_window}-day window (`sim.kpis.periodic`), at the window's last "
                f"day; band: the {pct} t-interval of that mean over the runs (cut at the "
                "range of the runs' own values).",
            )
        )
        sections.append(sec)
    return sections


def analyse(
    exp: Experiment,
    design: Design,
    results: pd.DataFrame,
    folder: Path,
    paths: pd.DataFrame | None = None,
) -> list[Section]:
    """The sections of a sweep report; figures are written under `folder/figures/`. `paths`
    (paths.parquet) adds a figure per kept path."""
    (folder / FIGURES).mkdir(parents=True, exist_ok=True)
    if results.empty:
        return [Section("No finished runs", ["Nothing to analyse yet."])]
    if exp.design == "grid":
        sections = analyse_grid(exp, design, results, folder)
    elif exp.design == "lhs":
        sections = analyse_lhs(exp, design, results, folder)
    else:
        sections = analyse_sensitivity(exp, design, results, folder)
    if paths is not None and not paths.empty:
        sections += analyse_paths(exp, design, paths, folder)
    return sections
