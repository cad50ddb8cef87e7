"""The outputs of `siyu optimize`: a folder written whole or not at all.

Files: `report.md` (the verdict, the best allocation beside the scenario's own with 95%
intervals, the marginal ROI table, the front), `summary.json`, `trials.csv` (every trial: asked
and repaired values, planned spend, objectives), `comparison.csv`, `marginal_roi.csv`,
`pareto.csv` (several objectives only), `figures/marginal_roi.png`, `figures/trials.png`,
`figures/pareto.png`, and `optimum.toml`: a scenario file that `extends` the scenario and sets
what the optimum changes (it loads with `siyu run`).

Everything is written into a hidden temporary sibling of the folder and renamed into place at
the end (`write_optimize`), so an interrupted run (Ctrl-C) leaves no half-written folder.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.effects import json_value
from sim.experiments.optimize import OBJECTIVES, OptimizeResult, Trial
from sim.params import Scenario
from sim.present.figures import figure, save, style
from sim.present.format import fmt_number
from sim.present.tables import md_table
from sim.scenario import load_scenario

MARKER = "trials.csv"
"""A file every optimisation folder has: an --out holding it may be replaced."""
OPTIMUM = "optimum.toml"


# --------------------------------------------------------------------------- the optimum file


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data and not prefix.endswith("content_mix."):
        out: dict[str, Any] = {}
        for k, v in data.items():
            if isinstance(v, dict) and k not in ("content_mix",) and v:
                out.update(_flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out
    return {prefix.rstrip("."): data}


def toml_value(value: Any) -> str:
    """A value as TOML (numbers, strings, flags, lists and inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def changed_keys(before: Scenario, after: Scenario) -> dict[str, Any]:
    """Dotted keys whose value differs between two scenarios (tables compared leaf by leaf;
    the content mix and lists as a whole)."""
    a = _flat(before.model_dump(mode="json"))
    b = _flat(after.model_dump(mode="json"))
    return {k: v for k, v in b.items() if k != "name" and a.get(k) != v}


def optimum_toml(res: OptimizeResult, source: Path, target: Path) -> str:
    """The optimum as a scenario file in `target` that extends `source` (its path relative
    to `target`) and sets every key in which the optimum differs from the file as loaded
    (the levers, the budget, and any --set, --days or --consumers of the run)."""
    plain = load_scenario(source)
    extends = os.path.relpath(source.resolve(), target.resolve())
    changes = changed_keys(plain, res.best_scenario)
    changes["run.seed"] = res.final_seeds[0]
    lines = [
        f"# The optimum `siyu optimize` found for brand {res.brand} of {res.base.name}:",
        f"# {res.objectives[0]} against the twin {res.reference.name} "
        f"({res.counterfactual}), budget {res.budget:,.0f} yuan/year.",
        f"# On seed {res.final_seeds[0]} it measured {res.check['contribution']:,.2f} yuan of "
        "incremental contribution against that twin.",
        f"extends = {toml_value(extends)}",
        f"name = {toml_value(res.base.name + '_optimum')}",
        f"description = {toml_value('Optimised allocation of ' + res.brand + ': ' + res.verdict)}",
        "",
    ]
    lines += [
        f"{'.'.join(toml_key(p) for p in k.split('.'))} = {toml_value(v)}"
        for k, v in changes.items()
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- tables


def trials_frame(res: OptimizeResult) -> pd.DataFrame:
    """One row per trial: number, each lever as asked and as run, the repair factor, the
    planned annual spend, each objective's mean and sd over the search seeds, best flag."""
    rows = []
    for t in res.trials:
        row: dict[str, Any] = {"trial": t.number}
        for lv in res.levers:
            row[lv.key] = t.values[lv.key]
        for lv in res.levers:
            row[f"asked.{lv.key}"] = t.asked[lv.key]
        row["repair_factor"] = t.factor
        row["planned_spend"] = t.planned
        for o in res.objectives:
            row[o] = t.objectives[o]
            row[f"{o}_sd"] = t.sd[o]
        row["best"] = t.number == res.best.number
        row["pareto"] = any(f.number == t.number for f in res.front) if res.front else False
        rows.append(row)
    return pd.DataFrame(rows)


def allocation_rows(res: OptimizeResult) -> list[list[str]]:
    out = []
    for lv in res.levers:
        out.append([lv.key, _cell(res.own[lv.key]), _cell(res.best.values[lv.key]), lv.describe()])
    return out


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return fmt_number(v)
    return str(v)


def _ci(low: float, high: float, share: bool = False) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    if share:
        return f"{low:+.3f} … {high:+.3f}"
    return f"{fmt_number(low)} … {fmt_number(high)}"


def summary(res: OptimizeResult, files: list[str]) -> dict[str, Any]:
    clean = json_value
    return {
        "scenario": res.base.name,
        "brand": res.brand,
        "budget": res.budget,
        "days": res.base.run.days,
        "consumers": res.base.run.consumers,
        "objectives": res.objectives,
        "counterfactual": res.counterfactual,
        "twin": res.reference.name,
        "levers": [lv.describe() for lv in res.levers],
        "budget_rule": "repair: spend levers scaled towards their lows to fit the budget",
        "trials": len(res.trials),
        "search_seeds": res.search_seeds,
        "final_seeds": res.final_seeds,
        "own": {k: clean(v) for k, v in res.own.items()},
        "own_factor": res.own_factor,
        "best": {k: clean(v) for k, v in res.best.values.items()},
        "best_trial": res.best.number,
        "verdict": res.verdict,
        "beats": res.beats,
        "check": {"seed": res.final_seeds[0], **{k: clean(v) for k, v in res.check.items()}},
        "comparison": [
            {k: clean(v) for k, v in r.items()} for r in res.comparison.to_dict("records")
        ],
        "seconds": res.seconds,
        "engine": res.engine,
        "executor": res.executor,
        "files": files,
    }


# --------------------------------------------------------------------------- figures


def roi_figure(res: OptimizeResult, path: Path) -> None:
    """Marginal ROI per lever at the optimum, with 95% intervals: Δ contribution of each move
    (left) and Δ contribution per extra yuan of marketing cost (right; moves that hardly
    change spend are left out of this panel, their ratio divides by almost nothing)."""
    import matplotlib
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    t = res.roi.dropna(subset=["d_contribution"])
    panels = (
        (t, "d_contribution", "d_contribution_low", "d_contribution_high", "Δ contribution, yuan"),
        (t[t["note"] == ""], "marginal_roi", "roi_low", "roi_high", "Δ contribution per yuan"),
    )
    with matplotlib.rc_context(style()):
        fig, axes = figure(2, 1, 4.5, max(2.5, 0.45 * max(len(t), 1) + 1.2))
        for ax, (rows, col, low, high, title) in zip(axes[0], panels, strict=True):
            labels = [f"{r.lever} {r.direction}" for r in rows.itertuples()]
            y = np.arange(len(rows))
            x = rows[col].to_numpy(dtype=float)
            lo = x - rows[low].to_numpy(dtype=float)
            hi = rows[high].to_numpy(dtype=float) - x
            err = np.nan_to_num(np.vstack([lo, hi]), nan=0.0)
            ax.errorbar(x, y, xerr=err, fmt="o", color="#1f77b4", capsize=3)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(y, labels)
            ax.set_title(title)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            if col == "d_contribution":
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
            ax.invert_yaxis()
        fig.suptitle(f"Marginal ROI of each lever at the optimum ({res.brand})")
        save(fig, path)


def trials_figure(res: OptimizeResult, path: Path) -> None:
    """The first objective of every trial, in order, with the running best."""
    import matplotlib

    o = res.objectives[0]
    y = np.array([t.objectives[o] for t in res.trials])
    with matplotlib.rc_context(style()):
        fig, axes = figure(1, 1, 6.0, 3.5)
        ax = axes[0, 0]
        ax.plot(np.arange(1, len(y) + 1), y, "o", alpha=0.6, label="trial")
        ax.plot(np.arange(1, len(y) + 1), np.maximum.accumulate(y), "-", label="best so far")
        ax.set_xlabel("trial")
        ax.set_ylabel(f"incremental {o}")
        ax.legend()
        ax.set_title(f"Search: {len(y)} trials")
        save(fig, path)


def pareto_figure(res: OptimizeResult, path: Path) -> None:
    """The first two objectives of every trial, the Pareto front joined."""
    import matplotlib

    a, b = res.objectives[:2]
    with matplotlib.rc_context(style()):
        fig, axes = figure(1, 1, 5.5, 4.0)
        ax = axes[0, 0]
        ax.scatter(
            [t.objectives[a] for t in res.trials],
            [t.objectives[b] for t in res.trials],
            alpha=0.5,
            label="trial",
        )
        front = sorted(res.front, key=lambda t: t.objectives[a])
        ax.plot(
            [t.objectives[a] for t in front],
            [t.objectives[b] for t in front],
            "o-",
            color="#d62728",
            label="Pareto front",
        )
        ax.set_xlabel(f"incremental {a}")
        ax.set_ylabel(f"incremental {b}")
        ax.legend()
        save(fig, path)


# --------------------------------------------------------------------------- report


def report_md(res: OptimizeResult, command: str | None = None) -> str:
    o = res.objectives[0]
    lines = [
        f"# Optimised allocation: {res.brand} in {res.base.name}",
        "",
        f"**Verdict:** {res.verdict}.",
        "",
        f"Budget {res.budget:,.0f} yuan a year (every run has `annual_budget` = the budget; a "
        "candidate whose planned spend exceeds it is repaired: its spend levers are scaled "
        "towards their lows by the largest common factor that fits). Horizon "
        f"{res.base.run.days} days, {res.base.run.consumers:,} consumers. Objective: "
        f"{', '.join(res.objectives)} ({OBJECTIVES[o]}), measured against the fixed twin "
        f"`{res.reference.name}` on common random numbers. {len(res.trials)} trials of "
        f"Optuna's TPE sampler, each on seeds {res.search_seeds[0]}–{res.search_seeds[-1]}; the "
        f"best and the scenario's own re-run on {len(res.final_seeds)} fresh seeds "
        f"({res.final_seeds[0]}–{res.final_seeds[-1]}). Took {res.seconds:.0f} s on "
        f"{res.executor}.",
        "",
    ]
    if command:
        lines += ["```", command, "```", ""]
    lines += ["## The best allocation beside the scenario's own", ""]
    if res.own_factor < 1:
        lines += [
            f"The scenario's own plan exceeds the budget: its spend levers were scaled by "
            f"{res.own_factor:.2f} to fit.",
            "",
        ]
    lines += [md_table(["lever", "own", "best", "searched"], allocation_rows(res)), ""]
    rows = []
    for r in res.comparison.itertuples():
        s = r.objective == "private_share"
        val = f"{r.mean:+.3f}" if s else fmt_number(r.mean)
        rows.append([r.allocation, r.objective, val, _ci(r.low, r.high, s), str(r.n)])
    lines += [
        "Incremental objectives on the fresh seeds (against the twin; `best - own` is the "
        "paired difference, 95% t-intervals):",
        "",
        md_table(["allocation", "objective", "mean", "95% CI", "pairs"], rows),
        "",
        f"`optimum.toml` is this allocation as a scenario (run seed {res.final_seeds[0]}: "
        f"{res.check['contribution']:,.2f} yuan of incremental contribution against the twin).",
        "",
    ]
    if len(res.roi):
        lines += [
            "## Marginal ROI at the optimum",
            "",
            "Each continuous lever moved down and up by a tenth of its range, on the fresh "
            "seeds: Δ contribution from the optimum (95% t-interval), Δ marketing cost, and "
            "the marginal ROI, Δ contribution per extra yuan of marketing cost (percentile "
            "bootstrap). Near an optimum Δ contribution is about 0 either way.",
            "",
            md_table(
                [
                    "lever",
                    "move",
                    "value",
                    "Δ contribution",
                    "95% CI",
                    "Δ marketing cost",
                    "marginal ROI",
                    "95% CI",
                    "note",
                ],
                [
                    [
                        r.lever,
                        r.direction,
                        fmt_number(r.value),
                        fmt_number(r.d_contribution),
                        _ci(r.d_contribution_low, r.d_contribution_high),
                        fmt_number(r.d_marketing_cost),
                        fmt_number(r.marginal_roi),
                        _ci(r.roi_low, r.roi_high),
                        r.note,
                    ]
                    for r in res.roi.itertuples()
                ],
            ),
            "",
            "![marginal ROI](figures/marginal_roi.png)",
            "",
        ]
    if res.front:
        lines += ["## Pareto front", ""]
        head = ["trial", *[lv.key for lv in res.levers], *res.objectives]
        lines += [
            md_table(
                head,
                [
                    [
                        str(t.number),
                        *[_cell(t.values[lv.key]) for lv in res.levers],
                        *[fmt_number(t.objectives[x]) for x in res.objectives],
                    ]
                    for t in res.front
                ],
            ),
            "",
            "![Pareto front](figures/pareto.png)",
            "",
        ]
    lines += [
        "## The search",
        "",
        "![trials](figures/trials.png)",
        "",
        "Every trial is in `trials.csv` (asked and repaired values, planned spend, objectives "
        "with their sd over the search seeds). A trial's mean is on the search seeds, which "
        "the winner was chosen on: its interval on the fresh seeds above is the honest one.",
        "",
    ]
    return "\n".join(lines)


def pareto_frame(res: OptimizeResult) -> pd.DataFrame:
    return trials_frame(res)[lambda d: d["pareto"]]


def write_optimize(
    res: OptimizeResult, target: Path, source: Path, command: str | None = None
) -> list[str]:
    """Write every output into a temporary sibling of `target`, then put it in place
    (replacing an earlier optimisation's folder). Returns the files written."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        (tmp / "figures").mkdir()
        files = [
            "report.md",
            "summary.json",
            MARKER,
            "comparison.csv",
            "marginal_roi.csv",
            OPTIMUM,
            "figures/trials.png",
        ]
        trials_frame(res).to_csv(tmp / MARKER, index=False)
        res.comparison.to_csv(tmp / "comparison.csv", index=False)
        res.roi.to_csv(tmp / "marginal_roi.csv", index=False)
        (tmp / OPTIMUM).write_text(optimum_toml(res, source, target), encoding="utf-8")
        trials_figure(res, tmp / "figures" / "trials.png")
        if len(res.roi.dropna(subset=["d_contribution"])):
            roi_figure(res, tmp / "figures" / "marginal_roi.png")
            files.append("figures/marginal_roi.png")
        if res.front:
            pareto_frame(res).to_csv(tmp / "pareto.csv", index=False)
            pareto_figure(res, tmp / "figures" / "pareto.png")
            files += ["pareto.csv", "figures/pareto.png"]
        (tmp / "report.md").write_text(report_md(res, command), encoding="utf-8")
        (tmp / "summary.json").write_text(
            json.dumps(summary(res, files), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        os.chmod(tmp, 0o755)
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.rmdir(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return files


__all__ = ["MARKER", "OPTIMUM", "Trial", "optimum_toml", "write_optimize"]
