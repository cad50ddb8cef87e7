"""Shared helpers for the stylised-fact tests: cached runs, per-window KPIs and paired
differences.

Runs of a scenario and of its twin (the same scenario with one lever or assumption changed)
on the same seeds see common random numbers: the seed is the whole of a run's randomness,
so a difference between the two is the effect of the change (`paired`). A named counterfactual
of the product (`sim.counterfactual.twin`: no_private_ops, no_guides, no_nodes, ...) gives the
twin of a lever, and `sim.effects.incremental` the scenario's incremental KPIs against it
(`effects`). Each fact test's docstring names its row of docs/FACTS.md.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from sim import incremental, load_scenario, run
from sim.counterfactual import twin
from sim.kpis import ratio


@lru_cache(maxsize=64)
def _run(name: str, overrides: tuple[tuple[str, object], ...], seed: int):
    return run(load_scenario(name, dict(overrides)), seed)


def runs(name: str, seeds: int, **overrides):
    """Runs of a shipped scenario for seeds 1..n (cached across tests of a module).

    Overrides use double underscores for dots: brands__brand__strategy__private_ops=False.
    """
    items = tuple(sorted((k.replace("__", "."), v) for k, v in overrides.items()))
    return [_run(name, items, seed) for seed in range(1, seeds + 1)]


@lru_cache(maxsize=32)
def _twin_run(name: str, counterfactual: str, seed: int):
    return run(twin(load_scenario(name), counterfactual), seed)


def twin_runs(name: str, counterfactual: str, seeds: int):
    """Runs of a shipped scenario's named counterfactual twin for seeds 1..n (cached)."""
    return [_twin_run(name, counterfactual, seed) for seed in range(1, seeds + 1)]


def effects(name: str, counterfactual: str, seeds: int, unit: str | None = None) -> list[dict]:
    """Seed by seed (1..n), the scenario's incremental KPIs against its named twin on the
    same seed (`sim.effects.incremental`), for one brand (the first by default) or "market"."""
    results, twins = runs(name, seeds), twin_runs(name, counterfactual, seeds)
    unit = unit or next(iter(results[0].scenario.brands))
    return [incremental(r, t)[unit] for r, t in zip(results, twins, strict=True)]


def kpi(result, key: str, brand: str | None = None) -> float:
    """A whole-run KPI of one brand (the first brand by default) in one run."""
    kpis = result.summary["kpis"]["brands"]
    return float(kpis[brand or next(iter(kpis))][key])


def brand_kpi(results, key: str, brand: str | None = None) -> float:
    """Mean over runs of a whole-run KPI of one brand (the first brand by default)."""
    return float(np.mean([kpi(r, key, brand) for r in results]))


def paired(results, twins, measure) -> list[float]:
    """Seed by seed, `measure(run)` of the scenario minus that of its twin on the same seed
    (common random numbers): the incremental effect of what the twin changes."""
    return [measure(r) - measure(t) for r, t in zip(results, twins, strict=True)]


def window(ledger: pd.DataFrame, start: int, end: int) -> pd.Series:
    """Flows of the whole market summed over days [start, end)."""
    rows = ledger[(ledger["day"] >= start) & (ledger["day"] < end)]
    return rows.drop(columns=["day", "brand", "category"]).sum()


def window_ratio(results, num: str, den: str, start: int, end: int) -> float:
    """Mean over runs of sum(num)/sum(den) within a day window."""
    return float(
        np.mean(
            [
                ratio(window(r.ledger, start, end)[num], window(r.ledger, start, end)[den])
                for r in results
            ]
        )
    )


def last_quarter_private_share(result) -> float:
    """The market's private share of GMV over the run's last 90 days, in one run."""
    days = result.scenario.run.days
    return window_ratio([result], "gmv_private", "gmv_total", days - 90, days)
