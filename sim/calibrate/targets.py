"""Aggregate calibration targets beyond the repeat-buying curve, each used only when the
brand's data gives it, and the searched keys a user names (`siyu calibrate --sbc-keys`).

Targets (per month of 30 days from the order log's first day, whole months of the
calibration period only):

- `private_share`: the share of order value placed in the brand's own channels. A channel
  name of the order log (case and spaces ignored) is the model's `private` channel when it is
  one of `PRIVATE_CHANNELS` (the model's member channels and usual names of a brand's own
  shop); every other name (platform, marketplace, store, offline, online, ...) is not.
- `member_joins`, `member_leaves` (with a member events file): joins and leaves in the
  month per customer of the order log's calibration period (so that a data set and a
  simulated population of another size compare).
- `cac` (with a daily ad spend file): the cumulative ad spend to each month's end per
  customer acquired through ads so far (customers whose first order's `source` is `ads`;
  before the first such customer the spend itself, as if one had been acquired).

Distance of a target: the root mean square difference of the simulated and actual paths over
the months, relative to the actual path's mean (scale-free, as the repeat-buying curve's
distance is relative to its last value). `sim.calibrate.sbc` adds each target's distance times
its weight (`WEIGHTS`, 1 each) to the curve's.

Simulated paths come from a run's events read as the brand's data would be
(`sim.calibrate.roundtrip.order_log`, `member_log`): the run's new customers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.params import Scenario
from sim.vocab import MEMBER_CHANNELS

MONTH_DAYS = 30
"""Days of a target's month."""
PRIVATE_CHANNELS = frozenset(
    {"private", "own", "own_shop", "mini_program", "miniprogram", "official_account"}
    | set(MEMBER_CHANNELS)
)
"""Order-log channel names counted as the brand's own (private) channels."""
WEIGHTS: dict[str, float] = {
    "repeat_curve": 1.0,
    "private_share": 1.0,
    "member_joins": 1.0,
    "member_leaves": 1.0,
    "cac": 1.0,
}
"""Weight of each target's distance in the sum the search minimises."""


def is_private(channel: pd.Series) -> np.ndarray:
    """Whether each order-log channel name is a private channel (see `PRIVATE_CHANNELS`)."""
    names = channel.astype(str).str.strip().str.lower().str.replace(" ", "_")
    return names.isin(PRIVATE_CHANNELS).to_numpy()


def months_of(days: int) -> int:
    """Whole months of `MONTH_DAYS` in `days` days."""
    return days // MONTH_DAYS


def _month(dates: pd.Series, start: pd.Timestamp) -> np.ndarray:
    return ((dates - start).dt.days // MONTH_DAYS).to_numpy()


def private_share(orders: pd.DataFrame, months: int, start=None) -> np.ndarray:
    """Monthly share of order value in private channels (0 in a month without orders)."""
    start = pd.Timestamp(start) if start is not None else orders["date"].min()
    m = _month(orders["date"], start)
    keep = (m >= 0) & (m < months)
    value = orders["value"].to_numpy(float)[keep]
    total = np.bincount(m[keep], value, minlength=months)
    own = np.bincount(m[keep], value * is_private(orders["channel"])[keep], minlength=months)
    return np.divide(own, total, out=np.zeros(months), where=total > 0)


def member_paths(
    members: pd.DataFrame, orders: pd.DataFrame, months: int, start=None
) -> dict[str, np.ndarray]:
    """Monthly joins and leaves per customer of the order log's first `months` months."""
    start = pd.Timestamp(start) if start is not None else orders["date"].min()
    om = _month(orders["date"], start)
    customers = max(orders.loc[(om >= 0) & (om < months), "customer"].nunique(), 1)
    m = _month(members["date"], start)
    keep = (m >= 0) & (m < months)
    out = {}
    for name, event in (("member_joins", "join"), ("member_leaves", "leave")):
        sel = keep & (members["event"].to_numpy() == event)
        out[name] = np.bincount(m[sel], minlength=months).astype(float) / customers
    return out


def cac_path(orders: pd.DataFrame, ad_spend: pd.DataFrame, months: int, start=None) -> np.ndarray:
    """Cumulative ad spend to each month's end per customer acquired through ads so far
    (first orders with source `ads`; at least one, so a month before the first is the
    spend itself)."""
    if "source" not in orders.columns:
        raise ValueError(
            "--ad-spend: the order log needs a source column (ads for customers acquired "
            "through ads) to measure CAC"
        )
    start = pd.Timestamp(start) if start is not None else orders["date"].min()
    first = orders.sort_values("date", kind="stable").drop_duplicates("customer")
    ads = first["source"].astype(str).str.strip().str.lower() == "ads"
    m = _month(first.loc[ads, "date"], start)
    acquired = np.cumsum(np.bincount(m[(m >= 0) & (m < months)], minlength=months))
    sm = _month(ad_spend["date"], start)
    keep = (sm >= 0) & (sm < months)
    spent = np.cumsum(
        np.bincount(sm[keep], ad_spend["spend"].to_numpy(float)[keep], minlength=months)
    )
    return spent / np.maximum(acquired, 1)


def paths(
    orders: pd.DataFrame,
    members: pd.DataFrame | None,
    months: int,
    start=None,
    share: bool = True,
    ad_spend: pd.DataFrame | None = None,
) -> dict[str, np.ndarray]:
    """The targets asked for: with `share` the private share path, with member events the
    joins and leaves paths, with daily ad spend the CAC path."""
    out = {"private_share": private_share(orders, months, start)} if share else {}
    if members is not None:
        out.update(member_paths(members, orders, months, start))
    if ad_spend is not None:
        out["cac"] = cac_path(orders, ad_spend, months, start)
    return out


def distance(simulated: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Root mean square difference over the months (last axis), relative to the actual
    path's mean."""
    scale = max(float(np.mean(np.abs(actual))), 1e-12)
    return np.sqrt(np.mean((simulated - actual) ** 2, axis=-1)) / scale


@dataclass(frozen=True)
class TargetFit:
    """One target's fit: the data's path, the best trial's simulated path (mean over seeds),
    its distance and weight."""

    name: str
    actual: np.ndarray
    simulated: np.ndarray
    distance: float
    weight: float


@dataclass(frozen=True)
class Searched:
    """A scenario key searched between `low` and `high` (on the log scale if `log`)."""

    key: str
    low: float
    high: float
    log: bool = True


def key_value(sc: Scenario, key: str) -> Any:
    """The value of a dotted scenario key; KeyError naming the key if there is none."""
    node: Any = sc.model_dump()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def parse_keys(text: str, sc: Scenario) -> list[Searched]:
    """`--sbc-keys`: comma-separated `KEY` or `KEY=LOW:HIGH`; a bare key is searched from a
    third to three times its value (on the log scale). Raises ValueError (one line)."""
    out = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        key, _, span = item.partition("=")
        key = key.strip()
        try:
            value = key_value(sc, key)
        except KeyError:
            raise ValueError(f"--sbc-keys: {key}: not a key of the base scenario") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"--sbc-keys: {key}: not a number (it is {value!r})")
        if span:
            lo_text, sep, hi_text = span.partition(":")
            try:
                low, high = float(lo_text), float(hi_text)
            except ValueError:
                low = high = float("nan")
            if not sep or not (0 < low < high) or not np.isfinite(high):
                raise ValueError(
                    f"--sbc-keys: {item}: the range must be LOW:HIGH with 0 < LOW < HIGH"
                )
        else:
            if value <= 0:
                raise ValueError(
                    f"--sbc-keys: {key}: its value {value} is not above 0; give KEY=LOW:HIGH"
                )
            low, high = value / 3, value * 3
        for end in (low, high):
            try:
                sc.changed({key: end})
            except (KeyError, ValueError) as exc:
                raise ValueError(f"--sbc-keys: {key}={end:g}: {exc}") from None
        out.append(Searched(key, float(low), float(high)))
    if not out:
        raise ValueError("--sbc-keys: no key given")
    return out
