"""Shared helpers for the stylised-fact tests: cached runs and per-window KPIs."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from sim import load_scenario, run
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


def brand_kpi(results, key: str, brand: str | None = None) -> float:
    """Mean over runs of a whole-run KPI of one brand (the first brand by default)."""
    vals = []
    for r in results:
        kpis = r.summary["kpis"]["brands"]
        vals.append(kpis[brand or next(iter(kpis))][key])
    return float(np.mean(vals))


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
