"""Simulation-based adjustment of the need rate: make the calibrated scenario's new customers
spend, in their first 365 days, what the fitted model says the brand's new customers spend.

Why: the fit describes the brand's *customers*; the scenario's `purchases_per_year` is the
mean need rate of the whole *population*. Between the two stand (1) the logit choice, which
sends some needs to other brands or the outside option (thinning: fewer orders), (2) the
acquisition, which happens at a need, so consumers with frequent needs become customers first
(size bias: more orders), and (3) the dropout right after the first order of customers acquired
in a run (MBG/NBD; fewer orders). No closed form covers all three, so one scalar is found by
simulation: the factor f on the mapped `purchases_per_year` such that the mean `ltv365.all`
(GMV in a customer's first 365 days, `sim.kpis`) over a few seeds (common random numbers at
every step) matches the fitted models' E[Z]·(1 + E[X(365 days)]) within a tolerance (3%) or
within twice the standard error of the simulated mean over the seeds, whichever is wider.
The search steps f ← f·target/simulated until the target is bracketed, then bisects the
bracket on the log scale (robust to the simulation's noise). The heterogeneity (need_shape)
and the dropout are left as fitted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.params import Scenario
from sim.runner import run

MIN_DAYS = 730
"""Adjustment runs last at least this long, so that cohorts reach 365 days."""
SEEDS = (1, 2, 3, 4)
"""Seeds of the adjustment runs (the same at every step: common random numbers)."""


@dataclass(frozen=True)
class Adjustment:
    """The factor found, the simulated and target 365-day GMV per new customer, the steps
    taken (factor, simulated, its standard error) and whether the match was met."""

    factor: float
    simulated: float
    target: float
    steps: list[tuple[float, float, float]]
    met: bool
    seeds: tuple[int, ...]
    days: int


def simulated_ltv365(sc: Scenario, brand: str, seeds: Sequence[int]) -> tuple[float, float]:
    """Mean `ltv365.all` of a brand over runs with the given seeds, and its standard error
    (NaN where no run has a cohort; the error is NaN from one run)."""
    values = []
    for seed in seeds:
        value = run(sc, seed=seed).summary["kpis"]["brands"][brand]["ltv365"]["all"]
        if value is not None:
            values.append(float(value))
    if not values:
        return float("nan"), float("nan")
    se = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    return float(np.mean(values)), se


def match_need_rate(
    sc: Scenario,
    brand: str,
    target: float,
    seeds: Sequence[int] = SEEDS,
    tolerance: float = 0.03,
    max_steps: int = 10,
) -> Adjustment:
    """The factor on the brand's category's `purchases_per_year` that makes the simulated
    365-day GMV per new customer match `target` (see the module's docstring)."""
    if not (math.isfinite(target) and target > 0):
        raise ValueError("the fit gives no finite 365-day value to match")
    key = f"categories.{sc.brands[brand].category}.purchases_per_year"
    rate = sc.categories[sc.brands[brand].category].purchases_per_year
    days = max(sc.run.days, MIN_DAYS)
    factor = 1.0
    below: tuple[float, float] | None = None  # the largest factor found short of the target
    above: tuple[float, float] | None = None  # the smallest factor found beyond it
    steps: list[tuple[float, float, float]] = []
    met = False
    for _ in range(max_steps):
        trial = sc.changed({key: rate * factor, "run.days": days})
        value, se = simulated_ltv365(trial, brand, seeds)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"{key}: the simulated brand wins no customers whose first 365 days can be "
                "measured; the adjustment needs a base where it does"
            )
        steps.append((factor, value, se))
        if abs(value - target) <= max(tolerance * target, 2 * (se if math.isfinite(se) else 0)):
            met = True
            break
        if value < target and (below is None or factor > below[0]):
            below = (factor, value)
        if value > target and (above is None or factor < above[0]):
            above = (factor, value)
        if below is not None and above is not None and below[0] < above[0]:
            factor = math.sqrt(below[0] * above[0])
        else:
            factor = min(max(factor * target / value, 1e-3), 1e3)
    best = steps[-1] if met else min(steps, key=lambda s: abs(s[1] / target - 1))
    return Adjustment(best[0], best[1], target, steps, met, tuple(seeds), days)
