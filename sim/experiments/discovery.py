"""Scenario discovery: the box of factor space where a target holds, found by PRIM.

An experiment asks for it in its analysis section:

    [analysis]
    discover = [
        { metric = "brands.brand.incremental.incremental_roi", above = 1.0 },
        { metric = "market.private_share", between = [0.4, 0.5] },
    ]

Each target is a condition on one of the experiment's metrics (`above` = at least, `below`
= at most, `between` = within, bounds included). Every finished run is one row (replicates
are separate rows: PRIM sees the spread), its factors the experiment's factors (a numeric
range or list as a number, any other list, bundles included, as its level labels, which
PRIM treats as categories) and its outcome whether the run meets the target. Runs where the
KPI is undefined (NaN) are left out, and the report says how many.

PRIM (Friedman and Fisher 1999; Bryant and Lempert 2010), here EMA Workbench's
`ema_workbench.analysis.prim` with its defaults (lenient objective, peel and paste alpha
0.05, minimum mass 0.05), peels the factor space down to smaller and denser boxes; the
result is a trajectory of boxes from all runs (coverage 1, density = the share of runs
meeting the target) to a small dense box. The box reported is chosen on that trajectory by
one rule (`choose_box`): the highest density among boxes that still hold at least
`coverage` (default 0.5) of the runs meeting the target; ties go to the larger coverage.

- coverage: runs meeting the target inside the box ÷ all runs meeting the target;
- density: runs meeting the target inside the box ÷ runs inside the box;
- mass: runs inside the box ÷ all runs.

EMA Workbench is an optional dependency (the `discovery` extra); without it the report
section says how to install it in one line.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from sim.experiments.analysis import FIGURES, Section
from sim.experiments.design import Design
from sim.experiments.spec import Discover, Experiment, parse_metric
from sim.present.figures import figure, save, style
from sim.present.format import fmt_number, one_line, short
from sim.present.labels import fits, fmt_value, series_label
from sim.present.tables import md_table_plain

INSTALL = 'pip install -e ".[discovery]"'
"""How to install the optional dependency (EMA Workbench), said in the report without it."""
MIN_COVERAGE = 0.5
"""Default of a target's `coverage`: the chosen box keeps at least this share of the runs
that meet the target."""

THRESHOLD = 0.5
"""PRIM's threshold on a run's outcome (1 on target, 0 not): the runs at or above it are the
cases of interest, and PRIM keeps a box only if its density (the mean outcome of its runs)
reaches it; a last box below it is discarded (EMA's rule) and the report says so."""

MAX_LEVELS = 12
"""A numeric factor with at most this many distinct values in the runs (a grid's levels) has
the levels inside its bound listed beside it."""


class DiscoveryUnavailable(Exception):
    """EMA Workbench is not installed."""


@dataclass
class Limit:
    """The chosen box's bound on one factor, as a report states it."""

    factor: str
    text: str  # "6 … 12", "≥ 6", "in {quality}", "any"
    restricted: bool
    low: float = float("nan")  # a numeric factor's bounds in the box
    high: float = float("nan")
    kept: tuple[str, ...] = ()  # a category factor's levels in the box


@dataclass
class Box:
    """A PRIM result for one target: the chosen box and the trajectory it was chosen from."""

    coverage: float
    density: float
    mass: float
    n: int  # runs in the box
    k: int  # runs in the box meeting the target
    limits: list[Limit]
    trajectory: pd.DataFrame  # coverage, density, mass, n, k, res_dim per step
    chosen: int  # index of the chosen box on the trajectory


def _prim_module() -> Any:
    """`ema_workbench.analysis.prim`, imported quietly; DiscoveryUnavailable if missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optional parallel back ends it cannot find
            from ema_workbench.analysis import prim
    except ImportError as exc:
        raise DiscoveryUnavailable(str(exc)) from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def meets(values: np.ndarray, target: Discover) -> np.ndarray:
    """Whether each value meets the target (NaN never does)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        if target.above is not None:
            return v >= target.above
        if target.below is not None:
            return v <= target.below
        assert target.between is not None
        lo, hi = target.between
        return (v >= lo) & (v <= hi)


def target_text(target: Discover, name: str) -> str:
    """`at least 1` / `at most 0.3` / `between 40.0% and 50.0%` (shares as percentages)."""
    if target.above is not None:
        return f"at least {fmt_value(target.above, name)}"
    if target.below is not None:
        return f"at most {fmt_value(target.below, name)}"
    assert target.between is not None
    lo, hi = target.between
    return f"between {fmt_value(lo, name)} and {fmt_value(hi, name)}"


def factor_table(exp: Experiment, design: Design, points: np.ndarray) -> pd.DataFrame:
    """The factors of each row (run) as PRIM reads them: numbers for numeric factors, level
    labels (categories) for any other."""
    cols: dict[str, Any] = {}
    for key in design.keys:
        f = exp.factors[key]
        raw = [design.points[int(p)][key] for p in points]
        numeric = f.values is None or all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in f.values
        )
        cols[key] = np.asarray(raw, dtype=float) if numeric else [f.label(v) for v in raw]
    return pd.DataFrame(cols)


def choose_box(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The step of the peeling trajectory reported: the highest density among boxes with
    coverage ≥ `min_coverage` (ties: the larger coverage, then the earlier step); the first
    box (all runs) when none qualifies."""
    t = trajectory.reset_index(drop=True)
    ok = t[t["coverage"] >= min_coverage - 1e-12]
    if ok.empty:
        return 0
    order = ok.sort_values(["density", "coverage"], ascending=[False, False], kind="stable")
    return int(order.index[0])


def find_box(x: pd.DataFrame, y: np.ndarray, min_coverage: float = MIN_COVERAGE) -> Box:
    """Run PRIM once on factors `x` and outcome `y` (booleans) and choose a box on its
    trajectory (`choose_box`). Needs at least one row with y true and one with y false."""
    prim = _prim_module()
    y = np.asarray(y, dtype=bool)
    x = x.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y.astype(int), threshold=THRESHOLD, peel_alpha=0.05, paste_alpha=0.05)
        box = p.find_box()
    traj = box.peeling_trajectory[["coverage", "density", "mass", "n", "k", "res_dim"]].copy()
    traj = traj.astype(float).reset_index(drop=True)
    chosen = choose_box(traj, min_coverage)
    lims = box.box_lims[chosen]
    full = p.box_init
    limits = [  # EMA drops a category factor with one level: nothing to restrict there
        _limit(key, lims[key], full[key], x[key])
        if key in lims.columns
        else Limit(key, "any", False)
        for key in x.columns
    ]
    row = traj.iloc[chosen]
    return Box(
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        n=int(row["n"]),
        k=int(row["k"]),
        limits=limits,
        trajectory=traj,
        chosen=chosen,
    )


def _limit(key: str, lim: pd.Series, full: pd.Series, column: pd.Series) -> Limit:
    """One factor's bound in words: a range, one side, a set of levels, or `any`."""
    lo, hi = lim.iloc[0], lim.iloc[1]
    if isinstance(lo, set):  # categories: EMA keeps the set of levels in both rows
        kept, every = set(lo), set(full.iloc[0])
        order = tuple(v for v in dict.fromkeys(column) if v in kept)  # as runs show them
        if kept == every:
            return Limit(key, "any", False, kept=order)
        return Limit(key, "in {" + ", ".join(order) + "}", True, kept=order)
    flo, fhi = float(full.iloc[0]), float(full.iloc[1])
    lo, hi = float(lo), float(hi)
    lo_cut, hi_cut = lo > flo, hi < fhi
    if lo_cut and hi_cut:
        text = f"{fmt_number(lo)} … {fmt_number(hi)}"
    elif lo_cut:
        text = f"≥ {fmt_number(lo)}"
    elif hi_cut:
        text = f"≤ {fmt_number(hi)}"
    else:
        return Limit(key, "any", False, low=lo, high=hi)
    levels = np.unique(column.to_numpy(dtype=float))
    if len(levels) <= MAX_LEVELS:  # a grid's levels: say which the box keeps
        inside = [fmt_number(float(v)) for v in levels if lo <= v <= hi]
        text += (
            f" (levels {', '.join(inside)} of {', '.join(fmt_number(float(v)) for v in levels)})"
        )
    return Limit(key, text, True, low=lo, high=hi)


def fig_box(box: Box, keys: list[str], x: pd.DataFrame, title: str, path: Path) -> None:
    """Left: the peeling trajectory (density against coverage, the chosen box marked).
    Right: the chosen box's limits on each factor within its full range."""
    t = box.trajectory
    with matplotlib.rc_context(style()):
        fig, axes = figure(2, 1, 4.0, max(3.2, 0.45 * len(keys) + 1.4))
        ax = axes.flat[0]
        sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
        ax.plot(t["coverage"], t["density"], color="#999", lw=0.8, zorder=0)
        ax.scatter(
            [box.coverage],
            [box.density],
            s=120,
            facecolors="none",
            edgecolors="#c0392b",
            lw=1.8,
            label="chosen box",
        )
        ax.set_xlabel("coverage (share of target runs in the box)")
        ax.set_ylabel("density (share of box runs on target)")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower left", fontsize=8)
        fig.colorbar(sc, ax=ax, label="factors restricted", shrink=0.8)
        ax.set_title("Peeling trajectory", fontsize=9)
        ax = axes.flat[1]
        for i, lim in enumerate(box.limits):
            col = x[lim.factor]
            if not pd.api.types.is_numeric_dtype(col):
                levels = list(dict.fromkeys(col))
                for j, lev in enumerate(levels):
                    color = "#4c72b0" if lev in lim.kept else "#ddd"
                    ax.barh(i, 1 / len(levels), left=j / len(levels), color=color, height=0.5)
                    ax.text((j + 0.5) / len(levels), i, lev, fontsize=7, ha="center", va="center")
                continue
            flo, fhi = float(col.min()), float(col.max())
            lo, hi = max(lim.low, flo), min(lim.high, fhi)
            span = (fhi - flo) or 1.0
            ax.barh(i, 1.0, left=0.0, color="#ddd", height=0.5)
            ax.barh(i, (hi - lo) / span, left=(lo - flo) / span, color="#4c72b0", height=0.5)
            ax.text(0.0, i + 0.38, fmt_number(flo), fontsize=7, ha="left", va="center")
            ax.text(1.0, i + 0.38, fmt_number(fhi), fontsize=7, ha="right", va="center")
        ax.set_yticks(range(len(keys)), [short(k, keys) for k in keys])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 1], ["low end", "high end"])
        ax.set_title("The box (blue) in each factor's range", fontsize=9)
        fig.suptitle(fits(fig, title), fontsize=10)
        save(fig, path)


def analyse_discovery(
    exp: Experiment, design: Design, results: pd.DataFrame, folder: Path
) -> list[Section]:
    """One report section per target of the experiment's `analysis.discover`."""
    out = []
    for i, target in enumerate(exp.analysis.discover):
        title, text, figs = discover_section(exp, design, results, folder, i, target)
        out.append(Section(title, text, figs))
    return out


def discover_section(
    exp: Experiment,
    design: Design,
    results: pd.DataFrame,
    folder: Path,
    index: int,
    target: Discover,
) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(title, paragraphs, figures) of one target's scenario discovery."""
    who, name = parse_metric(target.metric, ())
    rows = results[(results["metric"] == name)]
    if who != "*":
        rows = rows[rows["brand"] == who]
    label = series_label(str(rows["brand"].iloc[0]) if len(rows) else who, name)
    want = target_text(target, name)
    title = f"Where {label} is {want}: scenario discovery (PRIM)"
    text: list[str] = []
    ok = rows[np.isfinite(rows["value"].to_numpy(dtype=float))]
    dropped = len(rows) - len(ok)
    hit = meets(ok["value"].to_numpy(dtype=float), target)
    note = (
        f" ({dropped} run{'s' if dropped != 1 else ''} where the KPI is undefined left out)"
        if dropped
        else ""
    )
    count = f"{int(hit.sum())} of {len(ok)} runs meet the target{note}"
    if len(ok) == 0:
        return title, [f"No finished run defines `{target.metric}`: nothing to discover."], []
    if not hit.any():
        return title, [f"No run meets the target ({want}): {count}."], []
    if hit.all():
        return title, [f"Every run meets the target ({want}): {count}; no box is needed."], []
    x = factor_table(exp, design, ok["point"].to_numpy())
    try:
        box = find_box(x, hit, target.coverage)
    except DiscoveryUnavailable:
        return (
            title,
            [f"Scenario discovery needs EMA Workbench, not installed here: `{INSTALL}`."],
            [],
        )
    except Exception as exc:  # the report goes on: PRIM's own refusal, said in one line
        return title, [f"{count}. PRIM could not run on these runs: {one_line(exc)}"], []
    keys = design.keys
    restricted = [lim for lim in box.limits if lim.restricted]
    if len(box.trajectory) == 1:  # EMA discarded the last box: below the density threshold
        return (
            title,
            [
                f"{count} ({hit.mean():.0%}). PRIM found no box of the factors in which at "
                f"least {THRESHOLD:.0%} of the runs meet the target: the runs on target are "
                "spread over the factor space rather than gathered in one box of it (a narrow "
                "band of a KPI that rises with two factors, for one, runs diagonally across "
                "them, and no box fits a diagonal; a one-sided target such as `above` finds "
                "where the KPI reaches the band)."
            ],
            [],
        )
    text.append(
        f"{count} ({hit.mean():.0%}; each replicate is a row). The box, chosen on PRIM's "
        "peeling trajectory as the densest box that still "
        f"holds at least {target.coverage:.0%} of the runs meeting the target: "
        + (
            "; ".join(f"**{short(lim.factor, keys)} {lim.text}**" for lim in restricted)
            if restricted
            else "no factor restricted (the target is spread over the whole space)"
        )
        + f". It holds {box.n} runs, {box.k} of them on target: coverage "
        f"{box.coverage:.0%} (of all runs on target), density {box.density:.0%} (of the runs "
        f"in the box; {hit.mean():.0%} over all runs), mass {box.mass:.0%} (of all runs)."
    )
    rows_md = [[f"`{lim.factor}`", short(lim.factor, keys), lim.text] for lim in box.limits]
    text.append(md_table_plain(["factor", "short name", "box"], rows_md))
    name_png = f"discover_{index + 1}_{name}.png".replace("/", "_")
    fig_box(box, keys, x, f"{label}: {want}", folder / FIGURES / name_png)
    caption = (
        "Left: each dot one box of PRIM's peeling trajectory (from all runs, right, to "
        "smaller, denser boxes), colour the number of factors it restricts; ringed: the box "
        "reported. Right: the reported box's range of each factor (blue) within the "
        "sampled range (grey)."
    )
    return title, text, [(f"{FIGURES}/{name_png}", caption)]
