"""Out-of-sample validation of a transaction model (Fader, Hardie & Lee 2005, figures 2-4):
fit on a calibration period, forecast the holdout period, and compare.

- tracking: cumulative repeat transactions by period (weeks on CDNOW) over calibration and
  holdout, actual vs the model's Σ_i E[X(t − t0_i)] over the cohort's first-purchase times;
- conditional expectations: mean holdout transactions by calibration-period frequency
  (0..7+), actual vs E[Y(t*) | x, t_x, T];
- the errors: the cumulative forecast's error at the holdout's end and its mean absolute
  percentage error over the holdout periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate import btyd
from sim.calibrate.data import Summary, transactions
from sim.present import figures

TOP_FREQUENCY = 7
"""Conditional expectations pool customers with this many or more repeat purchases."""


@dataclass(frozen=True)
class Validation:
    """The holdout comparison: weekly tracking (period, actual, model cumulative repeat
    transactions), conditional expectations by frequency, and the errors."""

    tracking: pd.DataFrame
    conditional: pd.DataFrame
    calibration_periods: float
    end_error: float
    holdout_mape: float


def tracking(orders: pd.DataFrame, s: Summary, fit: btyd.Fit) -> pd.DataFrame:
    """Cumulative repeat transactions of the cohort by period, actual and model."""
    tx = transactions(orders)
    tx = tx[tx["customer"].isin(set(s.customer))]
    first = tx.groupby("customer")["date"].transform("min")
    repeat = tx[tx["date"] > first]
    periods = int(np.ceil(((s.holdout_end - s.start).days + 1) / s.unit_days))
    ends = s.start + pd.to_timedelta(np.arange(1, periods + 1) * s.unit_days - 1, unit="D")
    day_counts = repeat.groupby("date").size()
    actual = [int(day_counts[day_counts.index <= e].sum()) for e in ends]
    t0 = (pd.to_datetime(s.first) - s.start).days.to_numpy(float) / s.unit_days
    starts, counts = np.unique(t0, return_counts=True)
    model = []
    for k in range(1, periods + 1):
        # time since first purchase at the end of period k (a purchase on day d counts by d)
        age = k - starts - 1.0 / s.unit_days
        live = age > 0
        ex = btyd.expected_transactions(fit.model, fit.params, age[live])
        model.append(float(np.sum(counts[live] * ex)))
    return pd.DataFrame({"period": np.arange(1, periods + 1), "actual": actual, "model": model})


def conditional(s: Summary, fit: btyd.Fit) -> pd.DataFrame:
    """Mean holdout transactions by calibration frequency 0..7+, actual and model."""
    expect = btyd.conditional_expected(fit.model, fit.params, s.holdout_length, s.x, s.t_x, s.T)
    bucket = np.minimum(s.x, TOP_FREQUENCY).astype(int)
    frame = pd.DataFrame({"x": bucket, "actual": s.holdout, "model": expect})
    out = (
        frame.groupby("x")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), model=("model", "mean"))
        .reset_index()
    )
    out["x"] = [f"{v}+" if v == TOP_FREQUENCY else str(v) for v in out["x"]]
    return out


def validate(orders: pd.DataFrame, s: Summary, fit: btyd.Fit) -> Validation:
    """Tracking, conditional expectations and the holdout errors of a fit."""
    track = tracking(orders, s, fit)
    cal_periods = ((s.end - s.start).days + 1) / s.unit_days
    hold = track[track["period"] > cal_periods]
    if hold.empty or hold["actual"].iloc[-1] == 0:
        end_error = mape = float("nan")
    else:
        end_error = float(hold["model"].iloc[-1] / hold["actual"].iloc[-1] - 1.0)
        ok = hold["actual"] > 0
        mape = float(np.mean(np.abs(hold["model"][ok] / hold["actual"][ok] - 1.0)))
    return Validation(track, conditional(s, fit), cal_periods, end_error, mape)


def tracking_figure(v: Validation, path: Path, unit: str = "week") -> None:
    """The tracking plot: cumulative repeat transactions, actual vs model, holdout shaded."""
    import matplotlib as mpl

    with mpl.rc_context(figures.style()):
        fig, axes = figures.figure(1, 1, 7.0, 4.0)
        ax = axes[0, 0]
        ax.plot(v.tracking["period"], v.tracking["actual"], color="black", label="actual")
        ax.plot(v.tracking["period"], v.tracking["model"], color="C1", ls="--", label="model")
        ax.axvline(v.calibration_periods, color="grey", lw=0.8)
        ax.axvspan(v.calibration_periods, v.tracking["period"].max(), color="grey", alpha=0.08)
        ax.set_xlabel(unit)
        ax.set_ylabel("cumulative repeat transactions")
        ax.set_title("Tracking: calibration, then holdout (shaded)")
        figures.thousands_axis(ax)
        ax.legend()
        figures.save(fig, path)


def conditional_figure(v: Validation, path: Path) -> None:
    """Conditional expectations: mean holdout transactions by calibration frequency."""
    import matplotlib as mpl

    c = v.conditional
    with mpl.rc_context(figures.style()):
        fig, axes = figures.figure(1, 1, 6.0, 4.0)
        ax = axes[0, 0]
        pos = np.arange(len(c))
        ax.plot(pos, c["actual"], color="black", marker="o", label="actual")
        ax.plot(pos, c["model"], color="C1", ls="--", marker="s", label="model")
        ax.set_xticks(pos, c["x"])
        ax.set_xlabel("repeat transactions in the calibration period")
        ax.set_ylabel("mean transactions in the holdout")
        ax.set_title("Conditional expectations")
        ax.legend()
        figures.save(fig, path)
