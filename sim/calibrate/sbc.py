"""Simulation-based calibration: the parameters the likelihood fit cannot reach, found by
making the simulated brand's repeat-buying curve match the brand's own.

The BG/NBD/Gamma-Gamma fit describes the brand's customers; the scenario's parameters
describe consumers, whose needs the logit choice thins and whose acquisition (at a need)
favours frequent buyers (`sim.calibrate.mapping`). So the keys that carry those biases —
by default the category's `purchases_per_year` and `dropout_mean` — are searched by
simulation against an aggregate target from the data: the cohort's weekly cumulative repeat
transactions per customer over the calibration weeks (`sim.calibrate.roundtrip`).

- Search: Optuna's TPE sampler, seeded (same seed, same trials), in batches of trials run on
  an executor of `sim.experiments.executors` (processes, Dask, or this process); every trial
  runs the same `seeds` (common random numbers), and its distance is the mean over them.
- Distance: the root mean square difference of the simulated and actual curves over the
  weeks, relative to the actual curve's last value; with `members` or `targets`, plus each
  aggregate target's distance (`sim.calibrate.targets`: private share path, member joins and
  leaves per month) times its weight (`targets.WEIGHTS`, the curve's included).
- Intervals: a bootstrap over both sources of error, at no cost in runs. Each of `resamples`
  resamples draws the data's cohort customers with replacement (a new target curve) and the
  seeds with replacement, recomputes every trial's distance from the stored curves and takes
  the best trial; the 2.5 and 97.5 percentiles of the best trials' values are the 95%
  interval (the trials' grid limits its resolution; more trials, finer intervals). The
  aggregate targets' data are not resampled (their paths are totals, not per customer): their
  share of the intervals is the seeds' noise only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calibrate import targets as tg
from sim.calibrate.roundtrip import START, customer_curves, repeat_curve, run_data, run_log
from sim.calibrate.targets import Searched
from sim.params import Scenario

SEEDS = (1, 2, 3)
"""Seeds of every trial's runs (common random numbers)."""
RESAMPLES = 400
"""Bootstrap resamples of the intervals."""
BOOTSTRAP_SEED = 2005
"""Seed of the bootstrap's resampling."""


def default_parameters(sc: Scenario, brand: str) -> list[Searched]:
    """The brand's category's need rate (a third to three times its value) and dropout
    mean (a third to three times, within 0.01 … 0.95)."""
    cat = sc.brands[brand].category
    c = sc.categories[cat]
    rate, drop = c.purchases_per_year, c.dropout_mean
    return [
        Searched(f"categories.{cat}.purchases_per_year", rate / 3, rate * 3),
        Searched(f"categories.{cat}.dropout_mean", max(drop / 3, 0.01), min(drop * 3, 0.95)),
    ]


def trial_curve(
    sc: Scenario,
    brand: str,
    values: dict[str, float],
    seed: int,
    weeks: int,
    members: bool | None = None,
    share: bool = True,
    ads: bool = False,
):
    """One run of `sc` changed by `values` (a task for the executors): the cohort's
    repeat-buying curve over `weeks` weeks and the cohort's size; with `members` given
    (True: with member events), also the aggregate targets' simulated paths (the private
    share path with `share`)."""
    changed = sc.changed({**values, "run.days": weeks * 7})
    if members is None:
        return repeat_curve(run_log(changed, brand, seed), weeks, start=START)
    log, member_events, ad_spend = run_data(changed, brand, seed)
    curve, n = repeat_curve(log, weeks, start=START)
    months = tg.months_of(weeks * 7)
    sims = tg.paths(
        log, member_events if members else None, months, START, share, ad_spend if ads else None
    )
    return curve, n, sims


def distance(simulated: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Root mean square difference over the weeks (last axis), relative to the actual's
    last value."""
    return np.sqrt(np.mean((simulated - actual) ** 2, axis=-1)) / max(actual[-1], 1e-12)


@dataclass
class SbcFit:
    """The result: per searched key its best value, bootstrap se and 95% interval; the
    trials (values, distance), the best trial's curves, and how long it took."""

    parameters: list[Searched]
    best: dict[str, float]
    se: dict[str, float]
    interval: dict[str, tuple[float, float]]
    distance: float
    trials: pd.DataFrame
    actual: np.ndarray
    best_curves: np.ndarray
    seeds: tuple[int, ...]
    weeks: int
    seconds: float
    cohort: int
    failed: int = 0
    notes: list[str] = field(default_factory=list)
    targets: list[tg.TargetFit] = field(default_factory=list)
    """The aggregate targets' fits at the best trial (none without `targets`)."""


def fit(
    sc: Scenario,
    brand: str,
    orders: pd.DataFrame,
    weeks: int,
    trials: int = 24,
    seeds: Sequence[int] = SEEDS,
    parameters: list[Searched] | None = None,
    executor: Any = None,
    seed: int = 0,
    batch: int = 4,
    resamples: int = RESAMPLES,
    targets: bool = False,
    members: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    ad_spend: pd.DataFrame | None = None,
) -> SbcFit:
    """Search `parameters` (default `default_parameters`) so that `sc`'s simulated cohort
    curve over `weeks` weeks matches the order log's (see the module's docstring); with
    `targets` the private share path, with `members` the member joins and leaves paths, with
    `ad_spend` (daily) the CAC path."""
    import optuna

    from sim.experiments.executors import SerialExecutor, TaskFailed

    t0 = time.perf_counter()
    if trials < 1:
        raise ValueError(f"--sbc-trials: must be at least 1 (got {trials})")
    parameters = parameters or default_parameters(sc, brand)
    per_customer = customer_curves(orders, weeks)
    if not len(per_customer):
        raise ValueError("the order log has no cohort customer to calibrate against")
    actual = per_customer.mean(axis=0)
    weights = {**tg.WEIGHTS, **(weights or {})}
    with_targets = targets or members is not None or ad_spend is not None
    months = tg.months_of(weeks * 7)
    if with_targets and months < 1:
        raise ValueError("the aggregate targets need a calibration period of a month or more")
    actual_paths = (
        tg.paths(orders, members, months, share=targets, ad_spend=ad_spend) if with_targets else {}
    )
    sims: dict[str, np.ndarray] = {
        k: np.full((trials, len(seeds), months), np.nan) for k in actual_paths
    }
    ex = executor or SerialExecutor()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    dists = {
        p.key: optuna.distributions.FloatDistribution(p.low, p.high, log=p.log) for p in parameters
    }
    values: list[dict[str, float]] = []
    curves: list[np.ndarray] = []
    cohorts: list[list[int]] = []
    failed = 0
    try:
        while len(values) < trials:
            asked = [study.ask(dists) for _ in range(min(batch, trials - len(values)))]
            done = len(values)
            items = [
                (
                    (i, j),
                    (sc, brand, dict(t.params), s, weeks)
                    + (
                        (members is not None, targets, ad_spend is not None) if with_targets else ()
                    ),
                )
                for i, t in enumerate(asked)
                for j, s in enumerate(seeds)
            ]
            got = np.full((len(asked), len(seeds), weeks), np.nan)
            sizes = [[0] * len(seeds) for _ in asked]
            for (i, j), result in ex.imap(trial_curve, items):
                if isinstance(result, TaskFailed):
                    failed += 1
                else:
                    got[i, j], sizes[i][j] = result[0], result[1]
                    for k, path in (result[2] if with_targets else {}).items():
                        sims[k][done + i, j] = path
            for i, t in enumerate(asked):
                d = weights["repeat_curve"] * distance(got[i], actual)
                for k, path in actual_paths.items():
                    d = d + weights[k] * tg.distance(sims[k][done + i], path)
                study.tell(t, float(np.mean(d)) if np.all(np.isfinite(d)) else math.inf)
                values.append(dict(t.params))
                curves.append(got[i])
                cohorts.append(sizes[i])
    finally:
        ex.shutdown()
    curves_arr = np.array(curves)  # trials × seeds × weeks

    def total(cols, target) -> np.ndarray:
        d = weights["repeat_curve"] * distance(curves_arr[:, cols], target)
        for k, path in actual_paths.items():
            d = d + weights[k] * tg.distance(sims[k][:, cols], path)
        return np.nanmean(d, axis=1)

    full = total(np.arange(len(seeds)), actual)
    if not np.isfinite(full).any():
        raise ValueError("every simulation-based calibration run failed")
    best_i = int(np.nanargmin(full))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = []
    for _ in range(resamples):
        target = per_customer[rng.integers(0, len(per_customer), len(per_customer))].mean(axis=0)
        cols = rng.integers(0, len(seeds), len(seeds))
        d = total(cols, target)
        picks.append(int(np.nanargmin(np.where(np.isfinite(d), d, np.inf))))
    keys = [p.key for p in parameters]
    boot = np.array([[values[i][k] for k in keys] for i in picks])
    table = pd.DataFrame(values)
    table["distance"] = full
    return SbcFit(
        parameters,
        dict(values[best_i]),
        {k: float(np.std(boot[:, n], ddof=1)) for n, k in enumerate(keys)},
        {
            k: (float(np.percentile(boot[:, n], 2.5)), float(np.percentile(boot[:, n], 97.5)))
            for n, k in enumerate(keys)
        },
        float(full[best_i]),
        table,
        actual,
        curves_arr[best_i],
        tuple(seeds),
        weeks,
        time.perf_counter() - t0,
        len(per_customer),
        failed,
        targets=[
            tg.TargetFit(
                k,
                path,
                np.nanmean(sims[k][best_i], axis=0),
                float(np.nanmean(tg.distance(sims[k][best_i], path))),
                weights[k],
            )
            for k, path in actual_paths.items()
        ],
    )
