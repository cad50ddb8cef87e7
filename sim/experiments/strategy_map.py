"""Strategy maps: which level of a choice factor (a strategy archetype) pays best in each cell
of a grid of two other factors (category profiles), by a metric's mean over replicates with
intervals.

An experiment asks for one in its `[analysis]`:

    maps = [{ rows = "categories.beauty.service_need",
              cols = "categories.beauty.purchases_per_year",
              choice = "brands.brand.strategy",
              metric = "brands.brand.incremental.contribution" }]

In each cell the choice levels are ranked by their mean metric over replicates (other
factors, if any, averaged within each replicate). The cell names the best level and says how
sure that is, at the analysis's confidence level:

- `clear`: the best level's t-interval over replicates lies above 0 and the Welch interval of
  its difference to the runner-up lies above 0 too;
- `tie`: the best level's interval lies above 0 but its difference to the runner-up includes 0
  (the two are not distinguishable with these replicates);
- `none`: no level's interval lies above 0 (nothing is shown to pay there).

With `incremental.contribution` as the metric each level's value is already an effect (the
run against its counterfactual twin on the same seed), so the map says where each strategy
pays, not where it is credited. Design points have their own seeds, so two levels are
compared unpaired (Welch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.analysis import FIGURES, Section
from sim.experiments.design import Design
from sim.experiments.spec import Experiment, StrategyMap, parse_metric
from sim.present.figures import figure, save, style
from sim.present.format import fmt_number, short
from sim.present.tables import md_table_plain

CLEAR, TIE, NONE = "clear", "tie", "none"
"""A cell's verdict: a clear winner, a winner not distinguishable from the runner-up, none."""


@dataclass(frozen=True)
class Cell:
    """One cell of a strategy map: its best choice level and how sure that is."""

    row: str
    col: str
    best: str
    mean: float
    low: float
    high: float
    runner_up: str
    diff_low: float
    diff_high: float
    status: str


def t_interval(values: np.ndarray, conf: float) -> tuple[float, float, float]:
    """(mean, low, high): the t-interval of the mean over replicates (NaN bounds below 2)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(v.mean())
    if v.size < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + conf / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - half, m + half


def welch_interval(a: np.ndarray, b: np.ndarray, conf: float) -> tuple[float, float]:
    """The Welch t-interval of mean(a) - mean(b) (NaN when either has fewer than 2 values)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return float("nan"), float("nan")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    d = float(a.mean() - b.mean())
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return d, d
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + conf / 2, dof) * se)
    return d - half, d + half


def choose(samples: dict[str, np.ndarray], conf: float) -> tuple[str, str, tuple, tuple, str]:
    """The best level of one cell from each level's replicate values: (best, runner-up,
    (mean, low, high) of the best, (low, high) of best minus runner-up, verdict)."""
    ranked = sorted(
        ((t_interval(v, conf), lev) for lev, v in samples.items()),
        key=lambda x: -np.inf if not np.isfinite(x[0][0]) else x[0][0],
        reverse=True,
    )
    (best_ci, best) = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else ""
    diff = welch_interval(samples[best], samples[runner], conf) if runner else (np.inf, np.inf)
    if not best_ci[1] > 0.0:  # NaN (too few replicates) counts as not shown
        status = NONE
    elif diff[0] > 0.0:
        status = CLEAR
    else:
        status = TIE
    return best, runner, best_ci, diff, status


def map_cells(
    results: pd.DataFrame,
    rows: str,
    cols: str,
    choice: str,
    brand: str,
    metric: str,
    conf: float,
) -> list[Cell]:
    """The cells of a map from a results table with one column per factor (its level labels),
    `replicate`, `brand`, `metric` and `value` (one row per run and KPI)."""
    df = results[(results["brand"] == brand) & (results["metric"] == metric)]
    per_rep = df.groupby([rows, cols, choice, "replicate"], sort=False)["value"].mean()
    cells: list[Cell] = []
    for (r, c), sub in per_rep.groupby(level=[0, 1], sort=False):
        samples = {str(lev): s.to_numpy(dtype=float) for lev, s in sub.groupby(level=2, sort=False)}
        best, runner, (m, lo, hi), (dlo, dhi), status = choose(samples, conf)
        cells.append(Cell(str(r), str(c), best, m, lo, hi, runner, dlo, dhi, status))
    return cells


def _labelled(exp: Experiment, design: Design, results: pd.DataFrame, keys: list[str]):
    """results with each factor in `keys` as its level labels (bundles are stored as labels)."""
    labels = pd.DataFrame([{k: exp.factors[k].label(p[k]) for k in keys} for p in design.points])
    return results.drop(columns=[k for k in keys if k in results], errors="ignore").join(
        labels, on="point"
    )


def _levels(exp: Experiment, key: str) -> list[str]:
    f = exp.factors[key]
    return [f.label(v) for v in f.grid_levels()]


def cell_text(cell: Cell) -> str:
    """What a cell says in the figure and the table."""
    if cell.status == NONE:
        return f"none shown\n(best {cell.best})"
    head = cell.best if cell.status == CLEAR else f"{cell.best} ≈ {cell.runner_up}"
    return f"{head}\n{fmt_number(cell.mean)} [{fmt_number(cell.low)}, {fmt_number(cell.high)}]"


def fig_map(
    cells: list[Cell],
    row_levels: list[str],
    col_levels: list[str],
    choices: list[str],
    names: tuple[str, str, str, str],
    path: Path,
) -> None:
    """A grid of category profiles, each cell coloured by its best choice level (pale where
    not distinguishable from the runner-up, grey where nothing is shown to pay)."""
    import seaborn as sns

    palette = dict(zip(choices, sns.color_palette("colorblind", len(choices)), strict=True))
    where = {(c.row, c.col): c for c in cells}
    with matplotlib.rc_context({**style(), "axes.grid": False}):
        fig, axes = figure(1, 1, 1.9 * len(col_levels) + 1.2, 1.2 * len(row_levels) + 1.0)
        ax = axes[0, 0]
        for i, r in enumerate(row_levels):
            for j, c in enumerate(col_levels):
                cell = where.get((r, c))
                colour: tuple | str = "#dddddd"
                alpha = 1.0
                if cell is not None and cell.status != NONE:
                    colour, alpha = palette[cell.best], 1.0 if cell.status == CLEAR else 0.4
                ax.add_patch(
                    matplotlib.patches.Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        facecolor=colour,
                        alpha=alpha,
                        lw=1,
                        edgecolor="white",
                    )
                )
                text = cell_text(cell) if cell is not None else "no runs"
                ax.text(j, i, text, ha="center", va="center", fontsize=8)
        ax.set_xlim(-0.5, len(col_levels) - 0.5)
        ax.set_ylim(-0.5, len(row_levels) - 0.5)
        ax.set_xticks(range(len(col_levels)), col_levels)
        ax.set_yticks(range(len(row_levels)), row_levels)
        ax.set_xlabel(names[1])
        ax.set_ylabel(names[0])
        handles = [matplotlib.patches.Patch(color=palette[k], label=k) for k in choices]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), title=names[2])
        ax.set_title(f"Best {names[2]} by {names[3]}")
        save(fig, path)


def analyse_map(
    exp: Experiment, design: Design, results: pd.DataFrame, folder: Path, i: int, spec: StrategyMap
) -> list[Section]:
    """One report section per brand the map's metric names: the figure and a table."""
    keys = [spec.rows, spec.cols, spec.choice]
    df = _labelled(exp, design, results, keys)
    who, name = parse_metric(spec.metric, ())
    brands = sorted({b for b in df.loc[df["metric"] == name, "brand"]}) if who == "*" else [who]
    conf = exp.analysis.conf_level
    sections: list[Section] = []
    for brand in brands:
        cells = map_cells(df, spec.rows, spec.cols, spec.choice, brand, name, conf)
        if not cells:
            continue
        order = {
            (r, c): i
            for i, (r, c) in enumerate(
                (r, c) for r in _levels(exp, spec.rows) for c in _levels(exp, spec.cols)
            )
        }
        cells.sort(key=lambda cell: order.get((cell.row, cell.col), len(order)))
        short_names = [short(k, list(exp.factors)) for k in keys]
        file = f"map_{i + 1}_{brand}_{name}.png".replace("/", "_")
        fig_map(
            cells,
            _levels(exp, spec.rows),
            _levels(exp, spec.cols),
            _levels(exp, spec.choice),
            (short_names[0], short_names[1], short_names[2], name),
            folder / FIGURES / file,
        )
        pct = f"{conf:.0%}"
        sec = Section(f"Which {short_names[2]} pays where: {brand} {name}")
        sec.figures.append(
            (
                f"{FIGURES}/{file}",
                f"Each cell: the {short_names[2]} with the highest mean {name} over replicates "
                f"and its {pct} t-interval; full colour where that interval is above 0 and "
                f"the difference to the runner-up (Welch, {pct}) is above 0 too; pale with "
                "'≈' where it does not beat the runner-up; grey where no level's interval is "
                "above 0.",
            )
        )
        rows = [
            [
                c.row,
                c.col,
                c.best,
                fmt_number(c.mean),
                f"[{fmt_number(c.low)}, {fmt_number(c.high)}]",
                c.runner_up,
                f"[{fmt_number(c.diff_low)}, {fmt_number(c.diff_high)}]",
                c.status,
            ]
            for c in cells
        ]
        head = [
            *short_names[:2],
            "best",
            "mean",
            f"{pct} CI",
            "runner-up",
            "best − runner-up",
            "verdict",
        ]
        sec.text.append(md_table_plain(head, rows))
        sections.append(sec)
    return sections


def analyse_maps(
    exp: Experiment, design: Design, results: pd.DataFrame, folder: Path
) -> list[Section]:
    """The sections of every map the experiment's analysis asks for."""
    out: list[Section] = []
    for i, spec in enumerate(exp.analysis.maps):
        out += analyse_map(exp, design, results, folder, i, spec)
    return out
