"""Compare strategies with common random numbers: replicate k of every scenario runs with the
same seed, so differences between strategies are paired and their noise mostly cancels.

For each scenario after the first (the reference), each brand they share (and the market)
and each KPI: the mean paired difference over replicates, with a t-based confidence interval
(`sim.effects.paired_differences`, shared with the effects `siyu run` reports). The
reference may be a scenario's counterfactual twin (`siyu compare NAME --counterfactual CF`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.effects import paired_differences
from sim.experiments.executors import TaskFailed
from sim.experiments.seeds import compare_seed
from sim.experiments.spec import MARKET, flat_kpis
from sim.experiments.store import write_parquet
from sim.experiments.sweep import second_interrupt_exits
from sim.files import atomic_write
from sim.params import Scenario
from sim.present.figures import figure, save, style
from sim.present.format import fmt_number
from sim.present.tables import md_escape, md_table_plain

HEADLINE = (
    "gmv",
    "private_share",
    "contribution",
    "roi_total",
    "roi_private",
    "cac_blended",
    "members",
    "repurchase_rate",
)
"""The KPIs the table and the figure show (results.parquet keeps every KPI)."""
HEADLINE_LABELS = {
    "gmv": "GMV (yuan)",
    "private_share": "private share (0-1)",
    "contribution": "contribution (yuan)",
    "roi_total": "ROI, all spend",
    "roi_private": "ROI, private (attributed)",
    "cac_blended": "CAC, blended (yuan)",
    "members": "members (people)",
    "repurchase_rate": "repurchase rate (0-1)",
}
"""What the figure calls each headline KPI, with its unit (docs/KPIS.md defines them)."""
VERDICT = "contribution"
"""The KPI whose difference says whether the brand is better off: the figure colours it
green (better) or red (worse); other KPIs say how, not whether, so they are blue when their
interval excludes 0 and grey when it does not."""


def execute_scenario(
    scenario: Scenario,
    seed: int,
    label: str,
    replicate: int,
    run_fn: Callable[..., Any] | None = None,
) -> pd.DataFrame:
    """Run one scenario with one seed; every scalar KPI per brand and for the market.
    `run_fn(scenario, seed)` replaces `sim.runner.run` (tests)."""
    from sim.runner import run

    kpis = (run_fn or run)(scenario, seed).summary["kpis"]
    rows = [(MARKET, k, v) for k, v in flat_kpis(kpis["market"]).items()]
    for brand, k in kpis["brands"].items():
        rows += [(brand, name, v) for name, v in flat_kpis(k).items()]
    df = pd.DataFrame(rows, columns=["brand", "metric", "value"])
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    df.insert(0, "seed", seed)
    df.insert(0, "replicate", replicate)
    df.insert(0, "scenario", label)
    return df


def labels_of(scenarios: list[Scenario]) -> list[str]:
    """Unique names for the scenarios (a repeated name gets #2, #3 …)."""
    out: list[str] = []
    for sc in scenarios:
        name, n = sc.name, 2
        while name in out:
            name, n = f"{sc.name}#{n}", n + 1
        out.append(name)
    return out


FAILED_COLUMNS = ["scenario", "replicate", "seed", "error"]
DESCRIPTIVE = frozenset({"name", "description", "source_case"})
"""Keys that name or describe a scenario: never an assumption that differs."""
SHOWN_ASSUMPTIONS = 60
"""The report lists at most this many differing parameters (assumptions.csv has them all)."""


def flat_parameters(scenario: Scenario) -> dict[str, str]:
    """Every resolved parameter of a scenario as dotted key -> value (JSON text for lists
    and tables), descriptive keys left out."""
    return {
        key: json.dumps(value, ensure_ascii=False, sort_keys=True)
        for key, value in flat_kpis(scenario.model_dump(mode="json")).items()
        if key not in DESCRIPTIVE
    }


def parameter_differences(scenarios: list[Scenario], labels: list[str]) -> pd.DataFrame:
    """The assumptions a comparison rests on: every resolved parameter whose value is not
    the same in all scenarios (a key missing from one, such as another scenario's brand,
    reads "–"), one row per key, one column per scenario label, in key order."""
    flat = [flat_parameters(sc) for sc in scenarios]
    keys = sorted(set().union(*flat))
    rows = [
        [key, *(f.get(key, "–") for f in flat)]
        for key in keys
        if len({f.get(key, "–") for f in flat}) > 1
    ]
    return pd.DataFrame(rows, columns=["parameter", *labels])


@dataclass
class CompareResult:
    labels: list[str]
    runs: pd.DataFrame
    differences: pd.DataFrame
    replicates: int
    seconds: float
    failed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILED_COLUMNS))
    """Runs that produced nothing: scenario, replicate, seed, error (their pairs are left
    out of the differences)."""
    assumptions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["parameter"]))
    """Every resolved parameter that differs between the scenarios (`parameter_differences`):
    what a difference in KPIs may come from."""
    carries: str = "stochastic noise only"
    """What the intervals carry (with parameter draws from a calibration, they too)."""


class CompareError(Exception):
    """No pair of runs finished: there is nothing to compare."""


def run_compare(
    scenarios: list[Scenario],
    replicates: int,
    executor: Any,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    run_fn: Callable[..., Any] | None = None,
    parameters: list[dict[str, float]] | None = None,
    carries: str | None = None,
) -> CompareResult:
    """Run every scenario `replicates` times with common random numbers and pair them.

    `parameters`: one dict of scenario key → value per replicate (draws from a calibration,
    `sim.calibrate.draws`): replicate k of every scenario runs changed by `parameters[k]`.

    A run that fails (an exception, or the death of its worker) is recorded in `failed` and
    the others go on; the differences use the replicates where both runs of a pair finished.
    Raises CompareError if no scenario has a finished pair with the reference."""
    t0 = time.perf_counter()
    labels = labels_of(scenarios)
    if parameters is not None and len(parameters) != replicates:
        raise ValueError(f"parameters: {len(parameters)} given for {replicates} replicates")

    def drawn(sc: Scenario, k: int) -> Scenario:
        return sc if parameters is None else sc.changed(parameters[k])

    items = (
        (
            (label, k, s),
            (drawn(sc, k), s, label, k) if run_fn is None else (drawn(sc, k), s, label, k, run_fn),
        )
        for k in range(replicates)
        for s in [compare_seed(seed, k)]
        for sc, label in zip(scenarios, labels, strict=True)
    )
    total, frames, failed = len(scenarios) * replicates, [], []
    if progress:
        progress(0, total)
    try:
        for i, ((label, k, s), result) in enumerate(executor.imap(execute_scenario, items), 1):
            if isinstance(result, TaskFailed):
                failed.append((label, k, s, result.cause))
            else:
                frames.append(result)
            if progress:
                progress(i, total)
    except BaseException:
        with second_interrupt_exits():
            executor.shutdown(cancel=True)
        raise
    executor.shutdown()
    if not frames:
        raise CompareError(f"every run failed (first: {failed[0][3]})")
    runs = pd.concat(frames, ignore_index=True)
    order = {label: i for i, label in enumerate(labels)}
    runs = runs.sort_values(
        ["scenario", "replicate", "brand", "metric"],
        key=lambda c: c.map(order) if c.name == "scenario" else c,
        kind="stable",
    ).reset_index(drop=True)
    diffs = paired_differences(runs, labels)
    if diffs.empty or not (diffs["n"] > 0).any():
        raise CompareError(
            "no replicate finished for both the reference and another scenario "
            f"({len(failed)} run(s) failed, first: {failed[0][3] if failed else '?'})"
        )
    fails = pd.DataFrame(failed, columns=FAILED_COLUMNS).sort_values(
        ["scenario", "replicate"], key=lambda c: c.map(order) if c.name == "scenario" else c
    )
    return CompareResult(
        labels,
        runs,
        diffs,
        replicates,
        time.perf_counter() - t0,
        fails.reset_index(drop=True),
        parameter_differences(scenarios, labels),
        carries or ("stochastic noise only" if parameters is None else "noise and draws"),
    )


def shown_differences(diffs: pd.DataFrame) -> pd.DataFrame:
    """The headline KPIs; the market rows are left out where one brand is compared (they
    would repeat the brand's)."""
    d = diffs[diffs["metric"].isin(HEADLINE)].copy()
    brands = d[d["brand"] != MARKET].groupby("scenario")["brand"].nunique()
    single = set(brands[brands == 1].index)
    d = d[~((d["brand"] == MARKET) & d["scenario"].isin(single))]
    d["order"] = d["metric"].map({m: i for i, m in enumerate(HEADLINE)})
    d["is_market"] = d["brand"] == MARKET
    return d.sort_values(["scenario", "is_market", "brand", "order"], kind="stable")


def compact_number(value: float, _pos: object = None) -> str:
    """An axis tick in few characters: 150k, −2.1M, 0.25."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}".replace("-", "−")
    return f"{value:.3g}".replace("-", "−")


def fig_differences(res: CompareResult, path: Path) -> None:
    """One panel per KPI: each scenario's mean difference from the reference, with its CI."""
    d = shown_differences(res.differences)
    metrics = [m for m in HEADLINE if m in set(d["metric"])]
    rows = d[["scenario", "brand"]].drop_duplicates().values.tolist()
    names = [f"{s} · {b}" for s, b in rows]
    with matplotlib.rc_context(style()):
        fig, axes = figure(4, math.ceil(len(metrics) / 4), 2.9, 0.38 * len(rows) + 1.3, sharey=True)
        for ax, m in zip(axes.flat, metrics, strict=False):
            sub = d[d["metric"] == m].set_index(["scenario", "brand"])
            for i, (s, b) in enumerate(rows):
                if (s, b) not in sub.index:
                    continue
                r = sub.loc[(s, b)]
                lo, hi = r["low"], r["high"]
                sure = np.isfinite(lo) and (lo > 0 or hi < 0)
                if not sure:
                    color = "#777"
                elif m == VERDICT:
                    color = "#1b7837" if r["diff"] > 0 else "#c0392b"
                else:
                    color = "#2c6fbb"
                if np.isfinite(lo):
                    ax.plot([lo, hi], [i, i], color=color, lw=2)
                ax.plot([r["diff"]], [i], "o", color=color)
            ax.axvline(0, color="#222", lw=0.8)
            ax.set_title(HEADLINE_LABELS.get(m, m), fontsize=9)
            ax.xaxis.set_major_formatter(FuncFormatter(compact_number))
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.set_yticks(range(len(rows)), names)
            ax.invert_yaxis() if ax is axes.flat[0] else None
        for ax in axes.flat[len(metrics) :]:
            ax.set_visible(False)
        fig.suptitle(
            f"Difference from {res.labels[0]} (mean of {res.replicates} paired replicates, 95% CI)"
        )
        save(fig, path)


def write_compare(res: CompareResult, out: Path, days: int | None = None) -> Path:
    """results.parquet (every KPI of every run), differences.csv, assumptions.csv (every
    parameter that differs), report.md, figure."""
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    write_parquet(out / "results.parquet", res.runs)
    atomic_write(out / "differences.csv", lambda p: res.differences.to_csv(p, index=False))
    atomic_write(out / "assumptions.csv", lambda p: res.assumptions.to_csv(p, index=False))
    fig_differences(res, out / "figures" / "differences.png")
    ref = res.labels[0]
    lines = [
        f"# Comparison: {' vs '.join(res.labels)}",
        "",
        f"Each scenario ran {res.replicates} times; replicate *k* of every scenario used the "
        "same seed (common random numbers), so each difference below is a mean of "
        f"{res.replicates} paired differences from **{ref}**, with a 95% t-interval. "
        "An interval that excludes 0 means the sign is clear at this many replicates."
        + (f" Horizon: {days} days." if days else "")
        + f" The intervals carry {res.carries}.",
        "",
        "![differences](figures/differences.png)",
        "",
        "*Dots: mean difference; bars: 95% interval. Contribution says whether the brand is "
        "better off: green, clearly more than the reference; red, clearly less. The other KPIs "
        "say how it got there, not whether that is good: blue, clearly different from the "
        "reference; grey (any KPI), not distinguishable from it at this many replicates.*",
        "",
    ]
    lines += assumptions_section(res)
    if len(res.failed):
        lines += [
            f"**{len(res.failed)} run(s) failed**; the differences leave their pairs out "
            "(see `n`):",
            "",
            md_table_plain(
                ["scenario", "replicate", "seed", "error"],
                [
                    [
                        r.scenario,
                        str(r.replicate),
                        str(r.seed),
                        str(r.error)[:200].replace("|", "\\|"),
                    ]
                    for r in res.failed.itertuples()
                ],
            ),
            "",
        ]
    d = shown_differences(res.differences)
    for label in res.labels[1:]:
        sub = d[d["scenario"] == label]
        if sub.empty:
            continue
        lines += [f"## {label} − {ref}", ""]
        rows = []
        for r in sub.itertuples():
            ci = f"[{fmt_number(r.low)}, {fmt_number(r.high)}]" if np.isfinite(r.low) else "–"
            sure = np.isfinite(r.low) and (r.low > 0 or r.high < 0)
            rows.append(
                [
                    r.brand,
                    r.metric,
                    fmt_number(r.reference),
                    fmt_number(r.value),
                    ("**" + fmt_number(r.diff) + "**") if sure else fmt_number(r.diff),
                    ci,
                    str(r.n),
                ]
            )
        lines += [
            md_table_plain(["brand", "KPI", ref, label, "difference", "95% CI", "n"], rows),
            "",
        ]
    lines += [
        "`results.parquet`: every KPI of every run (scenario, replicate, seed, brand, metric, "
        "value); `differences.csv`: the paired differences for every KPI; `assumptions.csv`: "
        "every parameter that differs between the scenarios.",
        "",
    ]
    path = out / "report.md"
    atomic_write(path, lambda p: p.write_text("\n".join(lines), encoding="utf-8"))
    return path


def assumptions_section(res: CompareResult) -> list[str]:
    """The report's account of what differs between the scenarios, so that a reader sees
    which assumptions (stores, starting customers, levers ...) a difference may come from,
    not only the strategy the comparison is about."""
    table = res.assumptions
    lines = ["## What differs between the scenarios", ""]
    if table.empty:
        return [*lines, "Every resolved parameter is the same in all scenarios.", ""]
    lines += [
        f"{len(table)} resolved parameter(s) differ; a difference in KPIs may come from any of "
        "them, not only from the strategy in question. Compare like with like: a baseline "
        "should differ from its strategy only in that strategy's levers.",
        "",
    ]
    shown = table.head(SHOWN_ASSUMPTIONS)
    rows = [[f"`{r[0]}`", *(md_escape(str(v)) for v in r[1:])] for r in shown.values]
    lines += [md_table_plain(list(table.columns), rows), ""]
    if len(table) > SHOWN_ASSUMPTIONS:
        lines += [f"({len(table) - SHOWN_ASSUMPTIONS} more in `assumptions.csv`.)", ""]
    return lines
