"""Paths of a sweep: per-run KPI time series, and the time-to-threshold metrics read off them.

An experiment keeps paths with

    paths = ["market.private_share", "brands.brand.members"]   # market.KPI / brands.NAME.KPI
    path_window = 30                                           # days per window (default 30)

Each path is `sim.kpis.periodic` of the run's ledger over windows of `path_window` days (per
brand, or for the market with `by_brand=False`): flow KPIs of each window (`private_share`,
`gmv`, `roi_private` ...) and the stocks at its last day (`stock_members` ...; for the
market `private_ops` is the share of brands running private operations). The store keeps
them in `paths.parquet`, one row per run × brand × KPI × window.

A metric `market.days_to.KPI.THRESHOLD` (or `brands.NAME.days_to.KPI.THRESHOLD`) is the
number of days from the start of the run to the end of the first window whose KPI is at or
above THRESHOLD (`days_to.private_share.0.4`: days until a month's private share first
reaches 40%); NaN when no window reaches it. It is read off the same windows, whether or not
the KPI is also kept as a path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.kpis import periodic

DAYS_TO = "days_to."
"""Prefix of a time-to-threshold KPI name: `days_to.KPI.THRESHOLD`."""
NOT_PATH = ("period", "brand", "day")
"""Columns of `periodic` that are not KPIs."""
MARKET = "market"

PathRow = tuple[str, str, int, int, float]
"""(brand or 'market', KPI, period, day, value): one window of one path."""


def path_kpi_names(ledger: pd.DataFrame, window: int = 30) -> tuple[str, ...]:
    """The KPIs a path may follow: the columns `periodic` gives (for brands and the market)."""
    cols = list(periodic(ledger, window, by_brand=True).columns)
    cols += list(periodic(ledger, window, by_brand=False).columns)
    return tuple(c for c in dict.fromkeys(cols) if c not in NOT_PATH)


def parse_days_to(name: str) -> tuple[str, float]:
    """`days_to.private_share.0.4` -> ('private_share', 0.4); ValueError with the reason."""
    if not name.startswith(DAYS_TO):
        raise ValueError(f"expected {DAYS_TO}KPI.THRESHOLD")
    kpi, _, text = name.removeprefix(DAYS_TO).partition(".")
    if not kpi or not text:
        raise ValueError(f"expected {DAYS_TO}KPI.THRESHOLD (e.g. {DAYS_TO}private_share.0.4)")
    try:
        threshold = float(text)
    except ValueError:
        raise ValueError(
            f"threshold {text!r} is not a number (expected {DAYS_TO}KPI.THRESHOLD, "
            f"e.g. {DAYS_TO}private_share.0.4)"
        ) from None
    if not math.isfinite(threshold):
        raise ValueError(f"threshold {text!r} must be a finite number")
    return kpi, threshold


def days_to(days: Iterable[int], values: Iterable[float], threshold: float) -> float:
    """Days from the start to the end of the first window whose value is at or above
    `threshold` (a window's `day` is its last day, counted from 0, so this is day + 1);
    NaN if none is (an undefined window, NaN, never counts as reaching it)."""
    for day, value in zip(days, values, strict=True):
        if np.isfinite(value) and value >= threshold:
            return float(day + 1)
    return float("nan")


def run_paths(
    ledger: pd.DataFrame, window: int, series: Iterable[tuple[str, str]]
) -> list[PathRow]:
    """The windows of each (brand or 'market' or '*', KPI) series of one run, in the order
    asked ('*': every brand of the ledger, in the ledger's order)."""
    series = list(series)
    frames: dict[bool, pd.DataFrame] = {}

    def frame(by_brand: bool) -> pd.DataFrame:
        if by_brand not in frames:
            frames[by_brand] = periodic(ledger, window, by_brand=by_brand)
        return frames[by_brand]

    rows: list[PathRow] = []
    seen: set[tuple[str, str]] = set()
    for who, kpi in series:
        if who == MARKET:
            targets = [(MARKET, frame(False))]
        else:
            f = frame(True)
            names = list(dict.fromkeys(str(b) for b in f["brand"])) if who == "*" else [who]
            targets = [(b, f[f["brand"].astype(str) == b]) for b in names]
        for brand, sub in targets:
            if (brand, kpi) in seen:
                continue
            seen.add((brand, kpi))
            sub = sub.sort_values("period", kind="stable")
            for period, day, value in zip(sub["period"], sub["day"], sub[kpi], strict=True):
                v = float(value) if value is not None else float("nan")
                rows.append((brand, kpi, int(period), int(day), v))
    return rows


def threshold_values(paths: list[PathRow], who: str, kpi: str, threshold: float) -> dict:
    """{brand or 'market': days_to} of one days_to metric from the run's path rows."""
    out: dict[str, float] = {}
    brands = list(dict.fromkeys(r[0] for r in paths if r[1] == kpi))
    for b in [MARKET] if who == MARKET else (brands if who == "*" else [who]):
        if b == MARKET and who != MARKET:
            continue
        rows = [r for r in paths if r[0] == b and r[1] == kpi]
        out[b] = days_to([r[3] for r in rows], [r[4] for r in rows], threshold)
    return out
