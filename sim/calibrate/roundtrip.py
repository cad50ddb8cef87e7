"""Simulator round trips: Siyu's own customers turned into an order log and calibrated back,
and a calibrated scenario's repeat-buying curve set against the brand's.

- `order_log`: a run's events (`sim.events`, `run(..., events=PATH)`) as an order log in the
  `sim.calibrate.data` schema, one brand's customers acquired in the run (the day-0
  customers' earlier orders are not observed, so they are left out, as a brand's log would
  start with its first customers);
- `repeat_curve`: the weekly cumulative repeat transactions per customer of a cohort (first
  purchase in its first `cohort_weeks` weeks; Fader, Hardie & Lee 2005, figure 2, divided by
  the cohort's size so that logs of different sizes compare), and `simulated_curves` the same
  for a scenario's runs; `curve_error` the error of one against the other.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.data import transactions
from sim.params import Scenario

START = "2024-01-01"
"""The calendar date of a run's day 0 in the order logs made from it."""
COHORT_WEEKS = 12
"""The cohort of the repeat-buying curve: first purchase in the log's first 12 weeks (as
CDNOW's 1997 first-quarter cohort)."""


def dates(days: pd.Series, start: str = START) -> pd.DatetimeIndex:
    """Run days as calendar dates from `start` (day 0)."""
    return pd.Timestamp(start) + pd.to_timedelta(days.to_numpy(), unit="D")


def new_customers_rows(events: str | Path, table: str, brand: str) -> pd.DataFrame:
    """One brand's rows of an events table (`orders`, `memberships`) without the consumers
    who were its customers at day 0 (their history before the run is not in the log)."""
    events = Path(events)
    rows = pd.read_parquet(events / f"{table}.parquet")
    customers = pd.read_parquet(events / "customers.parquet")
    at_start = customers.loc[
        (customers["brand"].astype(str) == brand) & customers["customer_at_start"], "consumer"
    ]
    return rows[(rows["brand"].astype(str) == brand) & ~rows["consumer"].isin(at_start)]


def order_log(
    events: str | Path, brand: str, start: str = START, spells: bool = False
) -> pd.DataFrame:
    """One brand's orders of customers acquired in the run, as an order log (customer,
    date, value, channel, source).

    A consumer who lapses (drops out) may be acquired again later, and a brand's log sees
    one customer buy on. With `spells`, each acquisition starts a new customer id
    (`c<consumer>.<spell>`): the log the model's own dropout describes."""
    o = new_customers_rows(events, "orders", brand)
    customer = "c" + o["consumer"].astype(str)
    if spells:
        spell = o["first"].astype(int).groupby(o["consumer"]).cumsum()
        customer = customer + "." + spell.astype(str)
    return pd.DataFrame(
        {
            "customer": customer.to_numpy(),
            "date": dates(o["day"], start),
            "value": o["value"].to_numpy(float),
            "channel": o["channel"].astype(str).to_numpy(),
            "source": o["source"].astype(str).to_numpy(),
        }
    ).reset_index(drop=True)


def member_log(events: str | Path, brand: str, start: str = START) -> pd.DataFrame:
    """One brand's membership events (join, mute, leave) of consumers who were not its
    customers at day 0, in the member events schema (customer, date, event, channel)."""
    m = new_customers_rows(events, "memberships", brand)
    return pd.DataFrame(
        {
            "customer": ("c" + m["consumer"].astype(str)).to_numpy(),
            "date": dates(m["day"], start),
            "event": m["kind"].astype(str).to_numpy(),
            "channel": m["channel"].astype(str).to_numpy(),
        }
    ).reset_index(drop=True)


def ad_log(ledger: pd.DataFrame, brand: str, start: str = START) -> pd.DataFrame:
    """One brand's daily ad spend from a run's ledger, as the brand's data gives it (date,
    spend)."""
    rows = ledger[ledger["brand"].astype(str) == brand]
    return pd.DataFrame(
        {"date": dates(rows["day"], start), "spend": rows["cost_ads"].to_numpy(float)}
    )


def run_data(
    sc: Scenario, brand: str, seed: int, engine: str = "fast"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run `sc` with `seed`, its events into a temporary folder: the order log, the member
    events and the daily ad spend."""
    from sim.runner import run

    with tempfile.TemporaryDirectory(prefix="siyu-roundtrip-") as tmp:
        result = run(sc, seed, engine, events=Path(tmp) / "events")
        return (
            order_log(Path(tmp) / "events", brand),
            member_log(Path(tmp) / "events", brand),
            ad_log(result.ledger, brand),
        )


def run_log(
    sc: Scenario, brand: str, seed: int, engine: str = "fast", spells: bool = False
) -> pd.DataFrame:
    """Run `sc` with `seed`, its events into a temporary folder, and return the order log."""
    from sim.runner import run

    with tempfile.TemporaryDirectory(prefix="siyu-roundtrip-") as tmp:
        run(sc, seed, engine, events=Path(tmp) / "events")
        return order_log(Path(tmp) / "events", brand, spells=spells)


def customer_curves(
    orders: pd.DataFrame, weeks: int, cohort_weeks: int = COHORT_WEEKS, start=None
) -> np.ndarray:
    """Each cohort customer's cumulative repeat transactions at the end of weeks 1 …
    `weeks` (weeks from `start`, default the log's first day): one row per customer whose
    first order falls in the first `cohort_weeks` weeks. A transaction is a customer's day
    with an order; a repeat one any after the customer's first day."""
    tx = transactions(orders[["customer", "date", "value"]])
    start = pd.Timestamp(start) if start is not None else tx["date"].min()
    first = tx.groupby("customer")["date"].transform("min")
    cohort = ((first - start).dt.days < cohort_weeks * 7).to_numpy()
    ids, row = np.unique(tx.loc[cohort, "customer"].to_numpy(), return_inverse=True)
    rep = (tx.loc[cohort, "date"] > first[cohort]).to_numpy()
    week = ((tx.loc[cohort, "date"] - start).dt.days // 7).to_numpy()
    keep = rep & (week < weeks)
    counts = np.zeros((len(ids), weeks))
    np.add.at(counts, (row[keep], week[keep]), 1.0)
    return np.cumsum(counts, axis=1)


def repeat_curve(
    orders: pd.DataFrame, weeks: int, cohort_weeks: int = COHORT_WEEKS, start=None
) -> tuple[np.ndarray, int]:
    """The cohort's mean of `customer_curves` (cumulative repeat transactions per customer
    at the end of each week), and the cohort's size."""
    curves = customer_curves(orders, weeks, cohort_weeks, start)
    mean = curves.mean(axis=0) if len(curves) else np.zeros(weeks)
    return mean, len(curves)


def simulated_curves(
    sc: Scenario, brand: str, seeds: Sequence[int], weeks: int, engine: str = "fast"
) -> tuple[np.ndarray, list[int]]:
    """`repeat_curve` of the scenario's runs (`weeks` × 7 days) with each seed: one row per
    seed, and each run's cohort size."""
    sc = sc.changed({"run.days": weeks * 7})
    rows, sizes = [], []
    for seed in seeds:
        curve, n = repeat_curve(run_log(sc, brand, seed, engine), weeks, start=START)
        rows.append(curve)
        sizes.append(n)
    return np.array(rows), sizes


@dataclass(frozen=True)
class CurveError:
    """The error of a simulated curve against the actual: at the end (relative), and the mean
    absolute percentage error over the weeks where the actual is above 0."""

    end: float
    mape: float


def curve_error(simulated: np.ndarray, actual: np.ndarray) -> CurveError:
    """The error of `simulated` (one curve) against `actual`."""
    ok = actual > 0
    end = float(simulated[-1] / actual[-1] - 1) if actual[-1] > 0 else math.nan
    mape = float(np.mean(np.abs(simulated[ok] / actual[ok] - 1))) if ok.any() else math.nan
    return CurveError(end, mape)


def curve_figure(
    actual: np.ndarray,
    simulated: np.ndarray,
    path: Path,
    label: str = "brand's data",
    calibration_weeks: int | None = None,
    extra: dict[str, np.ndarray] | None = None,
    simulated_label: str = "simulated (mean over seeds)",
) -> None:
    """The actual curve and the simulated runs' mean with their range (and `extra` curves by
    label), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = np.arange(1, len(actual) + 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(weeks, actual, color="black", label=label)
    ax.plot(weeks, simulated.mean(axis=0), color="tab:blue", ls="--", label=simulated_label)
    if len(simulated) > 1:
        ax.fill_between(
            weeks,
            simulated.min(axis=0),
            simulated.max(axis=0),
            color="tab:blue",
            alpha=0.2,
            label="simulated (range over seeds)",
        )
    for name, curve in (extra or {}).items():
        ax.plot(weeks, curve, color="tab:orange", ls=":", label=name)
    if calibration_weeks:
        ax.axvline(calibration_weeks, color="grey", ls=":")
    ax.set_xlabel("week")
    ax.set_ylabel("cumulative repeat transactions per customer")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
