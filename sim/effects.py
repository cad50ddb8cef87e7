"""Effects, not attributions: what a strategy adds, measured against its counterfactual twin.

An effect is the scenario minus its twin (`sim.counterfactual.twin`), both run with the same
seed: common random numbers, so the two runs see the same consumers and draws and their
difference is mostly the strategy, not the luck of the draw. Over several replicates (seeds
seed, seed+1, …, pair k sharing seed k) the mean difference gets a 95% interval.

from sim import load_scenario, measure
fx = measure(load_scenario("beauty_guides"), "no_private_ops", replicates=8)
fx.table        # brand, metric, scenario, twin, diff, low, high, n
fx.row("brand", "contribution")

Incremental KPIs (docs/KPIS.md, "Incremental KPIs"), per brand and for the market:
`gmv`, `gross_profit`, `marketing_cost` (every cost but the platform's commission),
`contribution` (gross profit minus every cost), `customers` and `members` (end-of-run stocks),
`new_customers` and `new_members` (over the run); and two that are not differences of sums:
`incremental_roi` (Δ gross profit / Δ marketing cost) and `payback_day` (the first day from
which the cumulative Δ contribution stays ≥ 0).

Intervals: a difference of sums gets a t-interval of the paired differences
(`paired_differences`, which `siyu compare` uses too). Incremental ROI is a ratio of two noisy
means, for which a t-interval would be wrong, and payback day is a threshold of a curve: both
get a percentile bootstrap over replicates (`BOOTSTRAP_RESAMPLES` resamples of the replicate
pairs, drawn with the fixed seed `BOOTSTRAP_SEED`, so the same runs give the same interval).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from sim.counterfactual import brands_changed, describe, lever, resolve, twin
from sim.kpis import ratio
from sim.params import NO_COUNTERFACTUAL, Scenario
from sim.runner import RunResult, run

MARKET = "market"
"""The row of the market (all brands summed) in effects tables."""

FLOW_METRICS: dict[str, str] = {
    "gmv": "yuan: GMV over all channels",
    "gross_profit": "yuan: GMV minus cost of goods",
    "marketing_cost": "yuan: every cost but the platform's commission (ads, guides' salaries and "
    "commission, KOC commission and fees, referral rewards, welcome gifts, tooling)",
    "cost_total": "yuan: every cost (marketing cost plus the platform's commission)",
    "contribution": "yuan: gross profit minus every cost",
    "new_customers": "first orders over the run",
    "new_members": "consumers joining the private domain over the run",
}
"""Incremental flows (summed over the run) and what each is."""
STOCK_METRICS: dict[str, str] = {
    "customers": "people: customers (members included) at the end of the run",
    "members": "people: private-domain members at the end of the run",
}
"""Incremental stocks (end of run) and what each is."""
DERIVED_METRICS: dict[str, str] = {
    "incremental_roi": "yuan per yuan: Δ gross profit / Δ marketing cost (undefined when Δ "
    "marketing cost is 0)",
    "payback_day": "day: first day from which the cumulative Δ contribution stays ≥ 0 (0: never "
    "below 0; none: below 0 at the end of the run)",
}
"""Incremental KPIs that are not a difference of two sums."""
METRICS: tuple[str, ...] = (*FLOW_METRICS, *STOCK_METRICS, *DERIVED_METRICS)
"""Every incremental KPI, in table order."""

NOT_MARKETING = ("cost_platform_commission",)
"""Ledger costs left out of marketing cost: the platform's commission is a fee on platform
sales, not spend the brand chooses to win or keep customers."""

CONF = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
"""Percentile bootstrap of the ratio and threshold KPIs: resamples, and the seed of the
resampling generator (fixed: the same runs give the same interval)."""

TABLE_COLUMNS = ["brand", "metric", "scenario", "twin", "diff", "low", "high", "n"]
FAILED_COLUMNS = ["side", "replicate", "seed", "error"]


# --------------------------------------------------------------------------- one run's totals


@dataclass
class RunTotals:
    """What the effects need of one run: per brand and the market, the incremental KPIs'
    sums (`values[unit][metric]`) and the daily contribution (`daily[unit]`)."""

    seed: int
    values: dict[str, dict[str, float]]
    daily: dict[str, np.ndarray]


def _sums(rows: pd.DataFrame) -> tuple[dict[str, float], np.ndarray]:
    by_day = rows.drop(columns=["brand", "category"], errors="ignore").groupby("day").sum()
    flows = by_day.sum()
    last = by_day.iloc[-1]
    marketing = float(flows["cost_total"] - sum(flows[c] for c in NOT_MARKETING))
    values = {
        "gmv": float(flows["gmv_total"]),
        "gross_profit": float(flows["gross_profit"]),
        "marketing_cost": marketing,
        "cost_total": float(flows["cost_total"]),
        "contribution": float(flows["gross_profit"] - flows["cost_total"]),
        "new_customers": float(flows["new_customers_total"]),
        "new_members": float(flows["new_members_total"]),
        "customers": float(last["stock_customers"] + last["stock_members"]),
        "members": float(last["stock_members"]),
    }
    daily = (by_day["gross_profit"] - by_day["cost_total"]).to_numpy(dtype="float64")
    return values, daily


def totals(ledger: pd.DataFrame, seed: int = 0) -> RunTotals:
    """A run's incremental-KPI sums and daily contribution, per brand and for the market
    (stocks summed over brands, as `sim.kpis` does)."""
    values: dict[str, dict[str, float]] = {}
    daily: dict[str, np.ndarray] = {}
    for name, rows in ledger.groupby("brand", observed=True, sort=False):
        values[str(name)], daily[str(name)] = _sums(rows)
    values[MARKET], daily[MARKET] = _sums(ledger)
    return RunTotals(seed, values, daily)


def run_totals(
    scenario: Scenario,
    seed: int,
    engine: str = "fast",
    run_fn: Callable[..., RunResult] | None = None,
) -> RunTotals:
    """Run a scenario once and keep its totals (the task `measure` hands an executor:
    small to send back). `run_fn(scenario, seed, engine)` replaces `sim.runner.run`."""
    result = (run_fn or run)(scenario, seed, engine)
    return totals(result.ledger, seed)


# --------------------------------------------------------------------------- increments


def payback_day(cumulative: Iterable[float]) -> int | None:
    """The first day from which a cumulative Δ contribution stays ≥ 0, or None when it is
    below 0 on the last day (no payback within the horizon). A curve never below 0 pays back
    on day 0: the strategy never cost more than it brought."""
    curve = np.asarray(list(cumulative) if not isinstance(cumulative, np.ndarray) else cumulative)
    days = _payback_days(curve.reshape(1, -1))
    return None if np.isinf(days[0]) else int(days[0])


def _payback_days(curves: np.ndarray) -> np.ndarray:
    """`payback_day` of each row of a (curves × days) array, inf for none."""
    negative = curves < 0
    if curves.shape[1] == 0:
        return np.zeros(len(curves))
    last_negative = curves.shape[1] - 1 - np.argmax(negative[:, ::-1], axis=1)
    out = np.where(negative.any(axis=1), last_negative + 1, 0).astype("float64")
    out[negative[:, -1]] = np.inf
    return out


def difference(result: RunTotals, twin_result: RunTotals) -> dict[str, dict[str, float | None]]:
    """Scenario minus twin, per brand they share and the market: every incremental KPI."""
    out: dict[str, dict[str, float | None]] = {}
    for unit, mine in result.values.items():
        theirs = twin_result.values.get(unit)
        if theirs is None:
            continue
        d: dict[str, float | None] = {
            m: mine[m] - theirs[m] for m in (*FLOW_METRICS, *STOCK_METRICS)
        }
        d["incremental_roi"] = ratio(d["gross_profit"], d["marketing_cost"])
        a, b = result.daily[unit], twin_result.daily[unit]
        n = min(len(a), len(b))
        d["payback_day"] = payback_day(np.cumsum(a[:n] - b[:n]))
        out[unit] = d
    return out


def incremental(result: RunResult, twin_result: RunResult) -> dict[str, dict[str, float | None]]:
    """The incremental KPIs of one pair of runs (scenario minus twin; run them with the same
    seed): `{brand or "market": {metric: value}}`, with `incremental_roi` None when Δ
    marketing cost is 0 and `payback_day` None when there is no payback in the horizon."""
    return difference(totals(result.ledger, result.seed), totals(twin_result.ledger))


# --------------------------------------------------------------------------- intervals


def t_half_width(sd: pd.Series, n: pd.Series, conf: float = CONF) -> pd.Series:
    """Half-width of the t-interval of a mean from its sd and count (NaN below 2)."""
    # the t quantile as scipy.stats.t.ppf computes it (special.stdtrit); importing
    # scipy.stats would add about 0.8 s to every command that measures effects
    quantile = np.asarray(special.stdtrit(np.maximum(n - 1, 1), 0.5 + conf / 2))
    half = quantile * sd / np.sqrt(n)
    half[n < 2] = np.nan
    return half


PAIRED_COLUMNS = [
    "scenario",
    "vs",
    "brand",
    "metric",
    "reference",
    "value",
    "diff",
    "sd",
    "n",
    "low",
    "high",
]


def paired_differences(runs: pd.DataFrame, labels: list[str], conf: float = CONF) -> pd.DataFrame:
    """Mean paired difference (scenario − reference, the reference being `labels[0]`) per
    brand and KPI, with a t-interval. `runs` has columns scenario (a label), replicate,
    brand, metric, value; a replicate counts where both runs of the pair have a value."""
    ref = labels[0]
    wide = runs.pivot_table(
        index=["brand", "metric", "replicate"], columns="scenario", values="value", dropna=False
    )
    out = []
    for label in labels[1:]:
        if label not in wide or ref not in wide:
            continue
        both = wide[[ref, label]].dropna()
        d = (both[label] - both[ref]).groupby(level=["brand", "metric"])
        agg = pd.DataFrame(
            {
                "reference": both[ref].groupby(level=["brand", "metric"]).mean(),
                "value": both[label].groupby(level=["brand", "metric"]).mean(),
                "diff": d.mean(),
                "sd": d.std(),
                "n": d.count(),
            }
        )
        half = t_half_width(agg["sd"], agg["n"], conf)
        agg["low"] = agg["diff"] - half
        agg["high"] = agg["diff"] + half
        agg.insert(0, "scenario", label)
        agg.insert(1, "vs", ref)
        out.append(agg.reset_index())
    if not out:
        return pd.DataFrame(columns=PAIRED_COLUMNS)
    return pd.concat(out, ignore_index=True)


def _resamples(n: int) -> np.ndarray:
    """(BOOTSTRAP_RESAMPLES × n) weights: how often each replicate is drawn, divided by n."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    counts = np.zeros((BOOTSTRAP_RESAMPLES, n))
    np.add.at(counts, (np.arange(BOOTSTRAP_RESAMPLES)[:, None], idx), 1.0)
    return counts / n


def ratio_interval(num: np.ndarray, den: np.ndarray, conf: float = CONF) -> tuple[float, ...]:
    """(ratio of means, low, high, n) for paired replicates: the point is Σnum/Σden (NaN when
    Σden is 0); the interval is the percentile bootstrap of the same ratio over resampled
    replicates (NaN below 2 replicates, or when resamples with a zero denominator exceed
    the interval's tail)."""
    n = len(num)
    point = ratio(float(np.sum(num)), float(np.sum(den)))
    point = math.nan if point is None else point
    if n < 2:
        return point, math.nan, math.nan, n
    w = _resamples(n)
    top, bottom = w @ num, w @ den
    ok = bottom != 0
    if (~ok).mean() > (1 - conf) / 2:
        return point, math.nan, math.nan, n
    r = np.where(ok, top / np.where(ok, bottom, 1.0), np.inf)  # a zero denominator: unbounded
    low, high = np.quantile(r, [(1 - conf) / 2, (1 + conf) / 2])
    return point, float(low), float(high) if np.isfinite(high) else math.nan, n


def payback_interval(curves: np.ndarray, conf: float = CONF) -> tuple[float, ...]:
    """(payback day of the mean cumulative Δ contribution, low, high, n) over the replicates'
    curves (rows); low and high are percentiles of the payback day of bootstrap means, with
    "no payback within the horizon" counted as later than any day: a high of NaN means that
    more than the upper tail of resamples does not pay back."""
    n = len(curves)
    point = _payback_days(curves.mean(axis=0, keepdims=True))[0]
    point = math.nan if np.isinf(point) else float(point)
    if n < 2:
        return point, math.nan, math.nan, n
    days = _payback_days(_resamples(n) @ curves)
    low, high = np.quantile(days, [(1 - conf) / 2, (1 + conf) / 2], method="inverted_cdf")
    low = math.nan if np.isinf(low) else float(low)
    high = math.nan if np.isinf(high) else float(high)
    return point, low, high, n


# --------------------------------------------------------------------------- measure


@dataclass
class Effects:
    """The measured effect of a scenario against its counterfactual twin."""

    scenario: Scenario
    twin: Scenario
    counterfactual: str
    description: str
    """What the twin switches off, and for which brands (one phrase)."""
    lever: str
    """What the twin switches off, as a sentence's subject ("private operations")."""
    brands_changed: list[str]
    seeds: list[int]
    replicates: pd.DataFrame
    """One row per finished pair, brand and metric: replicate, seed, brand, metric, scenario,
    twin, diff (for incremental_roi and payback_day the pair's own value, in diff)."""
    table: pd.DataFrame
    """One row per brand and metric: brand, metric, scenario (mean), twin (mean), diff (the
    mean paired difference, or the ratio/payback of the means), low, high (95%), n (pairs)."""
    engine: str = "fast"
    seconds: float = 0.0
    failed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILED_COLUMNS))
    """Runs that raised or died: side (scenario or twin), replicate, seed, error; their pairs
    are left out."""
    parameters: list[dict[str, float]] | None = None
    """Per replicate, the parameter values its pair ran with (drawn from a calibration,
    `sim.calibrate.draws`), or None: the scenario's own values in every pair."""
    carries: str = "stochastic noise only"
    """What the intervals carry (one phrase)."""

    def row(self, brand: str, metric: str) -> dict[str, Any]:
        """One line of the table as a dict (NaN for undefined)."""
        hit = self.table[(self.table["brand"] == brand) & (self.table["metric"] == metric)]
        if hit.empty:
            raise KeyError(f"no effect {metric!r} for {brand!r}")
        return hit.iloc[0].to_dict()

    def units(self) -> list[str]:
        """The brands in the table, then the market."""
        return list(dict.fromkeys(self.table["brand"]))

    def summary(self) -> dict[str, Any]:
        """The `effects` section of summary.json (JSON-ready: None for undefined)."""
        return {
            "counterfactual": self.counterfactual,
            "twin": self.twin.name,
            "description": self.description,
            "lever": self.lever,
            "brands_changed": list(self.brands_changed),
            "replicates": len(self.seeds),
            "pairs": int(self.replicates["replicate"].nunique()) if len(self.replicates) else 0,
            "seeds": list(self.seeds),
            "engine": self.engine,
            "carries": self.carries,
            **({} if self.parameters is None else {"parameters": self.parameters}),
            "interval": "95%: t-interval of paired differences; incremental_roi and "
            f"payback_day: percentile bootstrap over replicates ({BOOTSTRAP_RESAMPLES} "
            f"resamples, seed {BOOTSTRAP_SEED})",
            "table": [
                {k: json_value(v) for k, v in rec.items()} for rec in self.table.to_dict("records")
            ],
            "failed": [
                {k: json_value(v) for k, v in rec.items()} for rec in self.failed.to_dict("records")
            ],
        }

    def write_csv(self, path: Path) -> None:
        """The table as CSV (empty cells for undefined)."""
        self.table.to_csv(path, index=False)


def json_value(v: Any) -> Any:
    """A value JSON can hold strictly: NumPy scalars as Python numbers, NaN and infinities as
    None (null)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class EffectsError(Exception):
    """No pair of runs finished: there is no effect to report."""


def _serial(
    items: Iterable[tuple[Any, tuple[Any, ...]]],
) -> Iterable[tuple[Any, RunTotals | str]]:
    for key, args in items:
        try:
            yield key, run_totals(*args)
        except Exception as exc:  # a run that fails is recorded, not fatal
            yield key, " ".join(f"{type(exc).__name__}: {exc}".split())


REPLICATE_THREADS_FROM = 15_000_000
"""The consumer-days of one run (consumers × days) from which `siyu run` runs its paired
replicates on every usable core by default (`replicate_threads`). Below it a run's own
Python work (its KPIs, its ledger's table) and the report's figures, drawn on the second core
meanwhile (`sim.present.forked`), leave little to gain. `siyu run beauty_guides --consumers N
--days 365`, wall seconds on one thread against two (2 cores, alternated): 30,000 consumers
(11M consumer-days) 4.4 / 5.2 s against 5.4 / 5.1 s; 50,000 (18M) 6.7 / 6.9 / 6.5 s against
6.1 / 5.9 / 6.2 s; 100,000 (37M) 10.3 / 10.6 s against 7.9 / 7.8 s; national_guides at
1,000,000 consumers × 120 days 23.9 / 26.0 s against 17.2 / 16.9 s."""

RUN_BYTES_PER_CONSUMER = (100, 65)
"""A fast-engine run's peak memory per consumer, bytes: a base and a part per brand,
(100 + 65 x brands), read off `benchmarks/bench_fast.py`'s peaks above the import baseline
(c: 298 B at 1M consumers and 3 brands; d and e: 163 and 147 B at 15M and 50M consumers of
one brand). `replicate_threads` runs as many replicates at once as fit in half the
machine's memory by this estimate."""


def replicate_threads(scenario: Scenario, engine: str = "fast") -> int:
    """How many threads `siyu run` runs the paired replicates on when `--threads` is not
    given: every usable core where the fast engine runs a market of REPLICATE_THREADS_FROM
    consumer-days or more, as many as half the machine's memory holds runs of it at once
    (RUN_BYTES_PER_CONSUMER; the attributed run's model is gone by then); else one. The
    results are the same for any count (each run keeps its own generators); the reference
    engine holds the interpreter lock, so threads would not help it."""
    from sim.machine import physical_memory, usable_cores

    consumers, days = scenario.run.consumers, scenario.run.days
    if engine != "fast" or consumers * days < REPLICATE_THREADS_FROM:
        return 1
    base, per_brand = RUN_BYTES_PER_CONSUMER
    run_bytes = consumers * (base + per_brand * len(scenario.brands))
    cores, memory = usable_cores(), physical_memory()
    fits = cores if memory is None else memory // 2 // max(run_bytes, 1)
    return max(1, min(cores, fits))


def measure(
    scenario: Scenario,
    counterfactual: str | None = None,
    replicates: int = 8,
    seed: int | None = None,
    engine: str = "fast",
    executor: Any = None,
    progress: Callable[[int, int], None] | None = None,
    brand: str | None = None,
    base: RunResult | None = None,
    run_fn: Callable[..., RunResult] | None = None,
    parameters: list[dict[str, float]] | None = None,
    carries: str | None = None,
) -> Effects:
    """Run the scenario and its twin `counterfactual` (None: the scenario's default;
    `NAME@BRAND` for one brand) with
    seeds seed, seed+1, … (default seed: the scenario's), pair k sharing seed k, and return
    the effects with 95% intervals.

    `brand`: apply a built-in counterfactual to this brand only. `executor`: an executor of
    `sim.experiments.executors` (its `imap`; it is shut down at the end), or None to run here,
    one run after the other. `progress(done, total)` is called as runs finish. `base`: the
    scenario's run with `seed`, already done (`siyu run` writes it), so it is not run again.
    A run that fails is recorded in `failed` and its pair left out; EffectsError if no pair
    finished.

    `parameters`: one dict of scenario key → value per replicate (draws from a calibration):
    pair k runs the scenario and its twin both changed by `parameters[k]`, with seed k, so
    the intervals carry the parameters' uncertainty as well as the noise; `carries` says so
    in the summary."""
    t0 = time.perf_counter()
    if parameters is not None and len(parameters) != replicates:
        raise ValueError(f"parameters: {len(parameters)} given for {replicates} replicates")
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1 (got {replicates})")
    name, brand = resolve(scenario, counterfactual, brand)
    if name == NO_COUNTERFACTUAL:
        raise ValueError("measure needs a counterfactual (got 'none')")
    tw = twin(scenario, name, brand)
    seed = scenario.run.seed if seed is None else int(seed)
    seeds = [seed + k for k in range(replicates)]
    pairs_sc = [
        {"scenario": scenario, "twin": tw}
        if parameters is None
        else {"scenario": scenario.changed(p), "twin": twin(scenario.changed(p), name, brand)}
        for p in (parameters or [None] * replicates)
    ]
    done: dict[tuple[str, int], RunTotals] = {}
    failed: list[tuple[str, int, int, str]] = []
    if (
        parameters is None
        and base is not None
        and base.seed == seeds[0]
        and base.scenario == scenario
    ):
        done[("scenario", 0)] = totals(base.ledger, base.seed)
    items = [
        ((side, k), (sc, s, engine, run_fn))
        for k, s in enumerate(seeds)
        for side, sc in pairs_sc[k].items()
        if (side, k) not in done
    ]
    total = 2 * replicates
    count = len(done)
    if progress:
        progress(count, total)
    stream = _serial(items) if executor is None else executor.imap(run_totals, items)
    try:
        for (side, k), result in stream:
            if isinstance(result, RunTotals):
                done[(side, k)] = result
            else:
                failed.append((side, k, seeds[k], str(getattr(result, "cause", result))))
            count += 1
            if progress:
                progress(count, total)
    except BaseException:
        if executor is not None:
            executor.shutdown(cancel=True)
        raise
    if executor is not None:
        executor.shutdown()
    pairs = [k for k in range(replicates) if ("scenario", k) in done and ("twin", k) in done]
    if not pairs:
        first = failed[0][3] if failed else "?"
        raise EffectsError(f"no replicate finished for both the scenario and its twin: {first}")
    table, per_replicate = _tables(done, pairs, seeds, scenario.name, tw.name)
    return Effects(
        scenario=scenario,
        twin=tw,
        counterfactual=name,
        description=describe(scenario, name, brand),
        lever=lever(scenario, name),
        brands_changed=brands_changed(scenario, name, brand),
        seeds=seeds,
        replicates=per_replicate,
        table=table,
        engine=engine,
        seconds=time.perf_counter() - t0,
        failed=pd.DataFrame(failed, columns=FAILED_COLUMNS),
        parameters=parameters,
        carries=carries
        or ("stochastic noise only" if parameters is None else "noise and parameter draws"),
    )


def _tables(
    done: Mapping[tuple[str, int], RunTotals],
    pairs: list[int],
    seeds: list[int],
    label: str,
    twin_label: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The effects table and the per-replicate frame from the finished pairs."""
    rows = []
    for k in pairs:
        for side, lab in (("scenario", label), ("twin", twin_label)):
            for unit, values in done[(side, k)].values.items():
                rows += [(lab, k, unit, m, v) for m, v in values.items()]
    runs = pd.DataFrame(rows, columns=["scenario", "replicate", "brand", "metric", "value"])
    diffs = paired_differences(runs, [twin_label, label])
    units = list(done[("scenario", pairs[0])].values)
    order = {m: i for i, m in enumerate(METRICS)}
    table = diffs.drop(columns=["scenario", "vs"]).rename(
        columns={"value": "scenario", "reference": "twin"}
    )[TABLE_COLUMNS]
    derived, per_rep = [], []
    for unit in units:
        pair_diffs = {
            k: difference(done[("scenario", k)], done[("twin", k)]).get(unit, {}) for k in pairs
        }
        for k, d in pair_diffs.items():
            per_rep += [
                (
                    k,
                    seeds[k],
                    unit,
                    m,
                    done[("scenario", k)].values[unit].get(m, math.nan),
                    done[("twin", k)].values[unit].get(m, math.nan),
                    math.nan if d.get(m) is None else d[m],
                )
                for m in METRICS
            ]
        gp = np.array([pair_diffs[k]["gross_profit"] for k in pairs])
        mk = np.array([pair_diffs[k]["marketing_cost"] for k in pairs])
        derived.append((unit, "incremental_roi", math.nan, math.nan, *ratio_interval(gp, mk)))
        curves = np.array(
            [
                np.cumsum(done[("scenario", k)].daily[unit] - done[("twin", k)].daily[unit])
                for k in pairs
            ]
        )
        derived.append((unit, "payback_day", math.nan, math.nan, *payback_interval(curves)))
    extra = pd.DataFrame(derived, columns=TABLE_COLUMNS)
    table = pd.concat([table, extra], ignore_index=True)
    table["n"] = table["n"].astype("int64")
    unit_order = {u: i for i, u in enumerate(units)}
    table = table.sort_values(
        ["brand", "metric"],
        key=lambda c: c.map(unit_order if c.name == "brand" else order),
        kind="stable",
    ).reset_index(drop=True)
    per_replicate = pd.DataFrame(
        per_rep, columns=["replicate", "seed", "brand", "metric", "scenario", "twin", "diff"]
    )
    return table, per_replicate
