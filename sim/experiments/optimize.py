"""Budget optimisation: the allocation of one brand's levers that pays best, measured as an
effect against a counterfactual twin, under an annual budget (`siyu optimize`).

from sim import load_scenario
from sim.experiments.optimize import optimize
res = optimize(load_scenario("beauty_guides"), "brand", trials=30, replicates=4)
res.verdict            # "beats the scenario's own by …" or "… already near-optimal …"

What is searched: the brand's levers (`Lever`): continuous strategy keys within [low, high]
(ads, guides per store, touch and post rates, the private discount, the welcome gift, the
selling share of the content mix, a multiplier on the referral rewards, KOC counts …) and
discrete policies (channel policy, guide KPI regime), a default set (`default_levers`) or the
user's (`parse_lever`, `--lever`).

The budget: every candidate runs with `annual_budget` = the budget (so the run enforces it,
`sim.rules.ads_within_budget`), and a candidate whose planned annual spend
(`sim.params.planned_annual_spend`: ads, guides' salaries, tooling, node fees) exceeds it is
REPAIRED, not penalised: its spend levers are moved towards their lows by one common factor,
the largest that fits (`repair`); the trial records both the asked and the repaired values,
and the repaired ones are what ran and what the optimiser is told. The scenario's own
allocation runs under the same budget.

The objective is incremental: each candidate and ONE fixed twin (the scenario's
counterfactual for the brand, default `no_private_ops@BRAND`, built from the scenario as
given) run on the same seeds (common random numbers), R replicates each; the objective is the
mean of the paired differences (`OBJECTIVES`). As the twin is fixed, two candidates'
objectives differ exactly by their paired difference on those seeds.

The optimiser is Optuna's TPE sampler, seeded (the same seed gives the same trials), asked
one trial at a time; the scenario's own allocation is the first trial. Several objectives give
a multi-objective TPE study and its Pareto front.

The answer is checked on fresh seeds (`final_replicates` pairs not used by the search, so the
winner's luck on the search seeds does not flatter it): the best allocation and the scenario's
own, both against the twin and against each other (paired t-intervals), and the marginal ROI of
each continuous lever at the optimum (±`ROI_STEP` of its range; Δ contribution per extra yuan
of marketing cost, bootstrap interval as `sim.effects.ratio_interval`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

import numpy as np
import pandas as pd

from sim.counterfactual import CounterfactualError, resolve, twin
from sim.effects import NOT_MARKETING, ratio_interval
from sim.params import NO_COUNTERFACTUAL, Scenario, StrategyParams, planned_annual_spend
from sim.rules import daily_discount_factor, retention_clv
from sim.runner import run
from sim.scenario import did_you_mean

CONF = 0.95
DEFAULT_TRIALS = 30
DEFAULT_REPLICATES = 4
ROI_STEP = 0.1
"""Share of a lever's range it moves up and down for the marginal ROI at the optimum."""
FLAT_SPEND = 0.01
"""A move whose Δ marketing cost is below this share of the optimum's marketing cost gets a
note: its marginal ROI divides by almost nothing (a discount or a posting rate moves
contribution, not spend)."""
UNLIMITED = 1e12
"""`annual_budget`'s default (sim.params): a brand with it has no budget of its own."""
NO_BUDGET = 1e9
NO_BUDGET_RATIO = 100.0
"""An `annual_budget` of at least NO_BUDGET yuan and NO_BUDGET_RATIO times the brand's own
planned spend is no budget (the default 1e12, scaled by `--consumers` or not): the default
budget is then the planned spend."""

OBJECTIVES: dict[str, str] = {
    "contribution": "yuan: incremental contribution over the horizon (gross profit minus "
    "every cost, candidate minus twin, same seed)",
    "npv": "yuan: incremental net present value: Σ_t δ^t Δcontribution_t + δ^T Δ(customer-base "
    "value at the horizon), δ the daily discount factor of market.discount_rate_per_year",
    "members": "people: incremental private-domain members at the end of the run",
    "customers": "people: incremental customers (members included) at the end of the run",
    "gmv": "yuan: incremental GMV over the horizon",
    "private_share": "share: the brand's own-shop share of its GMV minus the twin's",
}
"""What `--objective` may name (all maximised), and what each is."""

SPEND_KEYS = (
    "ad_budget_per_day",
    "guides_per_store",
    "guide_salary_per_day",
    "tooling_per_day",
    "koc_count",
    "koc_fee_per_day",
)
"""Strategy keys the planned annual spend grows with (`sim.params.planned_annual_spend`):
the ones `repair` scales."""

MIX_KEY = "content_mix.selling"
"""The content-mix lever: the selling share of touches; content and service keep their ratio
and fill the rest."""
REWARD_KEY = "referral_tiers.reward_scale"
"""The referral-reward lever: a multiplier on every tier's reward (the scenario's own is 1;
the tiers' referral counts stay)."""
PSEUDO_KEYS = (MIX_KEY, REWARD_KEY)
"""Levers that are not one strategy key but move a table of them."""


class OptimizeError(ValueError):
    """A bad lever, brand, budget, objective or setting: `str(err)` is one line
    `KEY: message` (the caller puts the file or option in front)."""


# --------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Lever:
    """One searched strategy key of the brand: a range (low, high) or discrete choices."""

    key: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()
    integer: bool = False

    @property
    def discrete(self) -> bool:
        return bool(self.choices)

    @property
    def spend(self) -> bool:
        """Whether the planned annual spend grows with it (repair scales it)."""
        return self.key in SPEND_KEYS

    def describe(self) -> str:
        if self.discrete:
            return f"{self.key} in {{{', '.join(str(c) for c in self.choices)}}}"
        return f"{self.key} in [{self.low:g}, {self.high:g}]"


def lever_keys() -> list[str]:
    """Every strategy key a lever may name: numbers, flags and choices (not lists)."""
    keys = [k for k, f in StrategyParams.model_fields.items() if _kind(f.annotation) != "other"]
    return [*keys, *PSEUDO_KEYS]


def _kind(annotation: Any) -> str:
    """'number', 'integer', 'choice' (a Literal or bool) or 'other' for a field's type."""
    base = annotation
    if get_origin(base) is not None and get_origin(base) is not type(None):
        args = get_args(base)
        if args and type(args[0]) is type:
            base = args[0]  # Annotated[float, ...] -> float
        elif str(get_origin(base)).endswith("Literal"):
            return "choice"
        else:
            base = args[0] if args else base
    if get_origin(base) is not None and str(get_origin(base)).endswith("Literal"):
        return "choice"
    if base is bool:
        return "choice"
    if base is int:
        return "integer"
    if base is float:
        return "number"
    return "other"


def _field_kind(key: str) -> str:
    if key in PSEUDO_KEYS:
        return "number"
    f = StrategyParams.model_fields.get(key)
    return "other" if f is None else _kind(f.annotation)


def _choice_value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    return text.strip()


def parse_lever(text: str, scenario: Scenario, brand: str) -> Lever:
    """A lever from `KEY=LOW:HIGH` (a range) or `KEY=A,B,…` (choices), checked against the
    scenario: an unknown key, a list key, low above high, or a value the scenario refuses
    raise OptimizeError `KEY: message`."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise OptimizeError(f"{text}: expected KEY=LOW:HIGH or KEY=A,B (a strategy key)")
    key = key.removeprefix(f"brands.{brand}.strategy.")
    kind = _field_kind(key)
    if kind == "other":
        known = lever_keys()
        why = "is a list, not a lever" if key in StrategyParams.model_fields else "unknown lever"
        raise OptimizeError(f"{key}: {why}{did_you_mean(key, known)} (levers: strategy keys)")
    if key == REWARD_KEY and not scenario.brands[brand].strategy.referral_tiers:
        raise OptimizeError(f"{key}: brand {brand} has no referral tiers to scale")
    if kind == "choice":
        choices = tuple(dict.fromkeys(_choice_value(c) for c in spec.split(",") if c.strip()))
        if len(choices) < 1 or ":" in spec:
            raise OptimizeError(f"{key}: a policy takes choices A,B (got {spec!r})")
        lever = Lever(key, choices=choices)
    else:
        lo, colon, hi = spec.partition(":")
        try:
            low, high = float(lo), float(hi)
        except ValueError:
            raise OptimizeError(f"{key}: expected LOW:HIGH numbers (got {spec!r})") from None
        if not colon or not (math.isfinite(low) and math.isfinite(high)):
            raise OptimizeError(f"{key}: expected LOW:HIGH numbers (got {spec!r})")
        if low > high:
            raise OptimizeError(f"{key}: low {low:g} is above high {high:g}")
        if kind == "integer":
            if low != int(low) or high != int(high):
                raise OptimizeError(f"{key}: a whole-number key takes whole bounds")
            low, high = float(int(low)), float(int(high))
        lever = Lever(key, low, high, integer=kind == "integer")
    for value in lever.choices or (lever.low, lever.high):
        _check_value(scenario, brand, lever, value)
    return lever


def _check_value(scenario: Scenario, brand: str, lever: Lever, value: Any) -> None:
    """Raise OptimizeError when the scenario refuses the lever at `value` (budget aside)."""
    values = settings(scenario, brand, {lever.key: _typed(lever, value)})
    values[f"brands.{brand}.annual_budget"] = UNLIMITED * 1e3
    try:
        scenario.changed(values)
    except (KeyError, ValueError) as exc:
        msg = str(exc.args[0]) if exc.args else str(exc)
        raise OptimizeError(f"{lever.key}: {value!r}: {msg.rpartition(': ')[2]}") from None


def _typed(lever: Lever, value: Any) -> Any:
    if lever.discrete:
        return value
    return round(value) if lever.integer else float(value)


def default_levers(scenario: Scenario, brand: str, budget: float) -> list[Lever]:
    """The levers searched when none are given: what the brand can move with the budget.

    Ads up to the whole budget; with private operations the private discount (0-30%), the
    welcome gift (0 to a quarter of the price, or twice its own), posts a week (0-7) and the
    selling share of touches (0-50%), the channel policy, and with referral tiers a
    multiplier on their rewards (0-2); with stores also guides per store
    (0 to twice its own, at least 1, within the budget), messages a day (0-30) and the guide
    KPI regime; with KOC or small-B nodes their count (0 to twice its own)."""
    b = scenario.brands[brand]
    st = b.strategy
    price = scenario.categories[b.category].price
    out = [Lever("ad_budget_per_day", 0.0, budget / 365.0)]
    if not st.private_ops:
        return out
    out += [
        Lever("private_discount", 0.0, 0.3),
        Lever("welcome_gift", 0.0, max(2 * st.welcome_gift, 0.25 * price)),
        Lever("broadcasts_per_week", 0.0, 7.0),
        Lever(MIX_KEY, 0.0, 0.5),
    ]
    if st.referral_tiers:
        out.append(Lever(REWARD_KEY, 0.0, 2.0))
    if b.stores > 0:
        high = max(2 * st.guides_per_store, 1.0)
        if st.guide_salary_per_day > 0:
            high = min(high, budget / (365.0 * b.stores * st.guide_salary_per_day))
        out += [
            Lever("guides_per_store", 0.0, high),
            Lever("guide_touches_per_day", 0.0, 30.0),
            Lever("guide_regime", choices=("quality", "quota")),
        ]
    if st.koc_count > 0:
        out.append(Lever("koc_count", 0.0, 2 * st.koc_count))
    out.append(Lever("channel_policy", choices=("separate", "assist")))
    return out


def own_values(scenario: Scenario, brand: str, levers: Iterable[Lever]) -> dict[str, Any]:
    """The scenario's own value of each lever."""
    st = scenario.brands[brand].strategy
    special = {MIX_KEY: st.content_mix.selling, REWARD_KEY: 1.0}
    return {lv.key: special[lv.key] if lv.key in special else getattr(st, lv.key) for lv in levers}


def settings(scenario: Scenario, brand: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys -> values that put the levers' `values` into the scenario (the content
    mix's selling share keeps the ratio of content to service)."""
    out: dict[str, Any] = {}
    prefix = f"brands.{brand}.strategy."
    for key, value in values.items():
        if key == MIX_KEY:
            mix = scenario.brands[brand].strategy.content_mix
            rest = 1.0 - float(value)
            other = mix.content + mix.service
            content = rest * (mix.content / other if other > 0 else 1.0)
            out[prefix + "content_mix"] = {
                "content": content,
                "service": rest - content,
                "selling": float(value),
            }
        elif key == REWARD_KEY:
            tiers = scenario.brands[brand].strategy.referral_tiers
            out[prefix + "referral_tiers"] = [
                {"referrals": t.referrals, "reward": t.reward * float(value)} for t in tiers
            ]
        else:
            out[prefix + key] = value
    return out


# --------------------------------------------------------------------------- budget


def planned_spend(scenario: Scenario, brand: str, values: Mapping[str, Any]) -> float:
    """yuan/year: the brand's planned annual spend with its levers at `values`
    (`sim.params.planned_annual_spend`; nothing is validated)."""
    b = scenario.brands[brand]
    upd = {k: v for k, v in values.items() if k in SPEND_KEYS}
    return planned_annual_spend(
        b.model_copy(update={"strategy": b.strategy.model_copy(update=upd)})
    )


def repair(
    scenario: Scenario, brand: str, levers: list[Lever], values: Mapping[str, Any], budget: float
) -> tuple[dict[str, Any], float]:
    """(values that fit the budget, the factor used): when the planned spend exceeds the
    budget, every spend lever moves from its value towards its low by one common factor c
    (value' = low + c (value - low)), the largest c in [0, 1] that fits (bisection; whole
    numbers are rounded down). Raises OptimizeError when even the lows do not fit."""
    spend = [lv for lv in levers if lv.spend and not lv.discrete]

    def scaled(c: float) -> dict[str, Any]:
        out = dict(values)
        for lv in spend:
            v = lv.low + c * (float(values[lv.key]) - lv.low)
            out[lv.key] = float(math.floor(v)) if lv.integer else v
        return out

    if planned_spend(scenario, brand, values) <= budget:
        return dict(values), 1.0
    if planned_spend(scenario, brand, scaled(0.0)) > budget:
        raise OptimizeError(
            f"budget: {budget:,.0f} yuan/year does not cover the plan even with every spend "
            f"lever at its low ({planned_spend(scenario, brand, scaled(0.0)):,.0f} yuan/year)"
        )
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if planned_spend(scenario, brand, scaled(mid)) <= budget:
            lo = mid
        else:
            hi = mid
    return scaled(lo), lo


def default_budget(scenario: Scenario, brand: str) -> float:
    """The brand's `annual_budget` when it has one, else its own planned annual spend. A
    budget counts as none when it is at least NO_BUDGET yuan and NO_BUDGET_RATIO times the
    planned spend: the schema's default (1e12), also after `--consumers` scaled it."""
    b = scenario.brands[brand]
    planned = planned_annual_spend(b)
    if b.annual_budget >= NO_BUDGET and b.annual_budget >= NO_BUDGET_RATIO * planned:
        return planned
    return float(b.annual_budget)


# --------------------------------------------------------------------------- one run


def base_value(scenario: Scenario, brand: str, daily_gp: np.ndarray, customers: float) -> float:
    """yuan at the horizon: a simple retention-based value of the brand's customer base
    (there is no CLV model of the base yet). Margin m = the brand's gross profit per customer
    and year over the run's last 365 days (the whole run if shorter), annualised; yearly
    retention r = (1 − category dropout_mean)^purchases_per_year (BG/NBD: a customer drops
    out after a purchase with that probability); value = customers × `retention_clv(m, r,
    d)` = customers × m·r/(1 + d − r), d = market.discount_rate_per_year. Serving costs are
    not deducted, so it is an upper bound of what the base is worth."""
    if customers <= 0 or len(daily_gp) == 0:
        return 0.0
    cat = scenario.categories[scenario.brands[brand].category]
    window = daily_gp[-365:]
    margin = float(window.sum()) * 365.0 / len(window) / customers
    retention = (1.0 - cat.dropout_mean) ** cat.purchases_per_year
    d = scenario.market.discount_rate_per_year
    return customers * retention_clv(margin, retention, d)


def run_values(scenario: Scenario, seed: int, engine: str, brand: str) -> dict[str, float]:
    """Run once and keep the brand's levels the objectives are differences of (the task an
    executor runs: small to send back)."""
    ledger = run(scenario, seed, engine).ledger
    rows = ledger[ledger["brand"].astype(str) == brand]
    by_day = rows.drop(columns=["brand", "category"], errors="ignore").groupby("day").sum()
    gp = by_day["gross_profit"].to_numpy(dtype="float64")
    daily = gp - by_day["cost_total"].to_numpy(dtype="float64")
    last = by_day.iloc[-1]
    customers = float(last["stock_customers"] + last["stock_members"])
    delta = daily_discount_factor(scenario.market.discount_rate_per_year)
    disc = delta ** np.arange(len(daily))
    horizon = delta ** len(daily)
    gmv = float(by_day["gmv_total"].sum())
    cost = float(by_day["cost_total"].sum())
    return {
        "contribution": float(daily.sum()),
        "npv": float(disc @ daily) + horizon * base_value(scenario, brand, gp, customers),
        "members": float(last["stock_members"]),
        "customers": customers,
        "gmv": gmv,
        "private_share": float(by_day["gmv_private"].sum()) / gmv if gmv > 0 else 0.0,
        "marketing_cost": cost - sum(float(by_day[c].sum()) for c in NOT_MARKETING),
    }


# --------------------------------------------------------------------------- evaluation


RunFn = Callable[[list[tuple[Scenario, int]]], list[dict[str, float]]]
"""Runs (scenario, seed) pairs and returns each run's `run_values`, in order."""


def executor_runs(executor: Any, engine: str, brand: str) -> RunFn:
    """A RunFn on an executor of `sim.experiments.executors` (None: here, one by one). A run
    that fails raises OptimizeError with its cause: a trial needs every replicate."""

    def runs(pairs: list[tuple[Scenario, int]]) -> list[dict[str, float]]:
        items = [(k, (sc, s, engine, brand)) for k, (sc, s) in enumerate(pairs)]
        if executor is None:
            return [run_values(*args) for _, args in items]
        out: dict[Any, Any] = {}
        for key, value in executor.imap(run_values, items):
            if not isinstance(value, dict):
                raise OptimizeError(f"run: {getattr(value, 'cause', value)}")
            out[key] = value
        return [out[k] for k in range(len(pairs))]

    return runs


@dataclass
class Paired:
    """Per-seed levels of one allocation and of the twin: the incremental objectives."""

    levels: list[dict[str, float]]
    twin: list[dict[str, float]]

    def diffs(self, metric: str) -> np.ndarray:
        return np.array(
            [a[metric] - b[metric] for a, b in zip(self.levels, self.twin, strict=True)]
        )


def interval(x: np.ndarray, conf: float = CONF) -> tuple[float, float, float]:
    """(mean, low, high): the t-interval of a mean of paired differences (NaN below 2)."""
    from scipy import stats

    n = len(x)
    mean = float(np.mean(x)) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + conf / 2, n - 1) * np.std(x, ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


class Evaluator:
    """Evaluates allocations of one brand's levers against a fixed twin on fixed seeds."""

    def __init__(
        self,
        base: Scenario,
        brand: str,
        levers: list[Lever],
        budget: float,
        reference: Scenario,
        runs: RunFn,
    ) -> None:
        self.base = base
        self.brand = brand
        self.levers = levers
        self.budget = budget
        self.reference = reference
        self.runs = runs
        self._twin: dict[int, dict[str, float]] = {}

    def scenario(self, values: Mapping[str, Any]) -> Scenario:
        """The base scenario with the levers at `values` and annual_budget = the budget."""
        typed = {lv.key: _typed(lv, values[lv.key]) for lv in self.levers}
        upd = settings(self.base, self.brand, typed)
        upd[f"brands.{self.brand}.annual_budget"] = self.budget
        try:
            return self.base.changed(upd)
        except (KeyError, ValueError) as exc:
            raise OptimizeError(str(exc.args[0]) if exc.args else str(exc)) from None

    def twin_levels(self, seeds: list[int]) -> list[dict[str, float]]:
        todo = [s for s in seeds if s not in self._twin]
        for s, v in zip(todo, self.runs([(self.reference, s) for s in todo]), strict=True):
            self._twin[s] = v
        return [self._twin[s] for s in seeds]

    def paired(self, scenarios: list[Scenario], seeds: list[int]) -> list[Paired]:
        """Each scenario on every seed (in one batch), paired with the twin's runs."""
        tw = self.twin_levels(seeds)
        flat = self.runs([(sc, s) for sc in scenarios for s in seeds])
        n = len(seeds)
        return [Paired(flat[i * n : (i + 1) * n], tw) for i in range(len(scenarios))]


# --------------------------------------------------------------------------- search


@dataclass
class Trial:
    """One evaluated allocation."""

    number: int
    asked: dict[str, Any]
    values: dict[str, Any]
    """What ran (after the budget repair)."""
    factor: float
    planned: float
    objectives: dict[str, float]
    sd: dict[str, float]


Objective = Callable[[dict[str, Any]], tuple[dict[str, Any], float, dict[str, np.ndarray]]]
"""values asked -> (values run, repair factor, per-replicate values of each objective)."""


def search(
    levers: list[Lever],
    objective: Objective,
    objectives: list[str],
    trials: int,
    seed: int,
    first: Mapping[str, Any] | None = None,
    planned: Callable[[Mapping[str, Any]], float] | None = None,
    progress: Callable[[Trial, list[Trial]], None] | None = None,
) -> list[Trial]:
    """Optuna's seeded TPE over the levers, `trials` evaluations of `objective`, all
    objectives maximised (several: a multi-objective TPE study). `first`: an allocation to
    evaluate first (the scenario's own; left out when outside the ranges). Deterministic for
    a seed: trials are asked one at a time."""
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists: dict[str, Any] = {}
    for lv in levers:
        if lv.discrete:
            dists[lv.key] = CategoricalDistribution(list(lv.choices))
        elif lv.integer:
            dists[lv.key] = IntDistribution(int(lv.low), int(lv.high))
        else:
            dists[lv.key] = FloatDistribution(lv.low, lv.high)
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(directions=["maximize"] * len(objectives), sampler=sampler)
    if first is not None and all(_inside(lv, first[lv.key]) for lv in levers):
        study.enqueue_trial({lv.key: first[lv.key] for lv in levers})
    done: list[Trial] = []
    for number in range(trials):
        t = study.ask(dists)
        asked = dict(t.params)
        values, factor, per_rep = objective(asked)
        means = {o: float(np.mean(per_rep[o])) for o in objectives}
        sds = {
            o: float(np.std(per_rep[o], ddof=1)) if len(per_rep[o]) > 1 else 0.0 for o in objectives
        }
        study.tell(t, [means[o] for o in objectives])
        trial = Trial(
            number,
            asked,
            values,
            factor,
            planned(values) if planned else math.nan,
            means,
            sds,
        )
        done.append(trial)
        if progress:
            progress(trial, done)
    return done


def _inside(lever: Lever, value: Any) -> bool:
    if lever.discrete:
        return value in lever.choices
    return lever.low <= float(value) <= lever.high


def pareto(trials: list[Trial], objectives: list[str]) -> list[Trial]:
    """The trials no other trial beats in every objective (ties kept), by the first
    objective, best first."""
    pts = np.array([[t.objectives[o] for o in objectives] for t in trials])
    keep = []
    for i, p in enumerate(pts):
        dominated = np.any(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1))
        if not dominated:
            keep.append(trials[i])
    return sorted(keep, key=lambda t: -t.objectives[objectives[0]])


def best_trial(trials: list[Trial], objectives: list[str]) -> Trial:
    """The trial with the highest first objective on the Pareto front (the earliest of
    ties)."""
    front = pareto(trials, objectives)
    top = max(t.objectives[objectives[0]] for t in front)
    return min((t for t in front if t.objectives[objectives[0]] == top), key=lambda t: t.number)


# --------------------------------------------------------------------------- the whole job


@dataclass
class OptimizeResult:
    """What `optimize` found, and the evidence."""

    base: Scenario
    brand: str
    budget: float
    levers: list[Lever]
    objectives: list[str]
    counterfactual: str
    reference: Scenario
    own: dict[str, Any]
    """The scenario's own lever values as run: scaled to fit when its plan exceeds the
    budget (`own_factor` < 1)."""
    own_factor: float
    best: Trial
    best_scenario: Scenario
    own_scenario: Scenario
    trials: list[Trial]
    search_seeds: list[int]
    final_seeds: list[int]
    comparison: pd.DataFrame
    """allocation (best, own, best − own), objective, mean, low, high, n: on the fresh seeds."""
    roi: pd.DataFrame
    """lever, direction (down/up), value, Δ contribution (low, high), Δ marketing cost,
    marginal ROI (low, high), note."""
    check: dict[str, float]
    """The best allocation's incremental objectives on the first fresh seed (what its
    scenario file reproduces)."""
    seconds: float
    engine: str = "fast"
    executor: str = "serial"
    front: list[Trial] = field(default_factory=list)

    @property
    def gain(self) -> dict[str, float]:
        r = self.comparison
        row = r[(r["allocation"] == "best - own") & (r["objective"] == self.objectives[0])]
        return row.iloc[0].to_dict()

    @property
    def beats(self) -> bool:
        g = self.gain
        return bool(g["low"] > 0)

    @property
    def verdict(self) -> str:
        """One line: whether the best found beats the scenario's own, with its interval."""
        g = self.gain
        what = self.objectives[0]
        fmt = _fmt(what)
        ci = f"95% CI {fmt(g['low'])} … {fmt(g['high'])}"
        n = int(g["n"])
        if g["low"] > 0:
            return (
                f"beats the scenario's own by {fmt(g['mean'])} {what} ({ci}, {n} fresh paired "
                "seeds)"
            )
        if g["high"] < 0:
            return (
                f"the scenario's own is better: the best found trails it by {fmt(-g['mean'])} "
                f"{what} on fresh seeds ({ci}): the search's winner was lucky on its seeds"
            )
        return (
            f"the scenario is already near-optimal: best found differs by {fmt(g['mean'])} "
            f"{what} ({ci} includes 0, {n} fresh paired seeds)"
        )


def _fmt(objective: str) -> Callable[[float], str]:
    if objective == "private_share":
        return lambda v: f"{v:+.3f}" if math.isfinite(v) else "–"
    return lambda v: f"{v:+,.0f}" if math.isfinite(v) else "–"


def reference_twin(
    scenario: Scenario, brand: str, counterfactual: str | None
) -> tuple[str, Scenario]:
    """(name, twin) the objectives are measured against: `counterfactual` (NAME, applied to
    `brand` when built in), default the scenario's `run.counterfactual`, or `no_private_ops`
    when that is "none"."""
    name, named = resolve(scenario, counterfactual)
    if name == NO_COUNTERFACTUAL:
        name, named = "no_private_ops", None
    try:
        tw = twin(
            scenario, name, named if named is not None else _builtin_brand(scenario, name, brand)
        )
    except CounterfactualError as exc:
        raise OptimizeError(f"counterfactual: {exc}") from None
    return name, tw


def _builtin_brand(scenario: Scenario, name: str, brand: str) -> str | None:
    return None if name in scenario.counterfactuals else brand


def check_setup(
    scenario: Scenario, brand: str, budget: float | None, objectives: list[str]
) -> float:
    """The budget to use, after checking the brand, the budget and the objectives."""
    if brand not in scenario.brands:
        raise OptimizeError(
            f"brand: {brand}: unknown brand{did_you_mean(brand, list(scenario.brands))} "
            f"(brands: {', '.join(scenario.brands)})"
        )
    for o in objectives:
        if o not in OBJECTIVES:
            raise OptimizeError(
                f"objective: {o}: unknown objective{did_you_mean(o, list(OBJECTIVES))} "
                f"(known: {', '.join(OBJECTIVES)})"
            )
    if len(set(objectives)) != len(objectives) or not objectives:
        raise OptimizeError("objective: give each objective once")
    budget = default_budget(scenario, brand) if budget is None else float(budget)
    if not (math.isfinite(budget) and budget > 0):
        raise OptimizeError(f"budget: must be a positive number of yuan a year (got {budget:g})")
    return budget


def optimize(
    scenario: Scenario,
    brand: str,
    budget: float | None = None,
    levers: list[Lever] | None = None,
    objectives: list[str] | None = None,
    trials: int = DEFAULT_TRIALS,
    replicates: int = DEFAULT_REPLICATES,
    final_replicates: int | None = None,
    seed: int | None = None,
    counterfactual: str | None = None,
    engine: str = "fast",
    executor: Any = None,
    roi: bool = True,
    progress: Callable[[str], None] | None = None,
    runs: RunFn | None = None,
) -> OptimizeResult:
    """Search the brand's levers for the best incremental objective under the budget, then
    check the best against the scenario's own on fresh seeds and measure the marginal ROI of
    each continuous lever at the optimum (see the module's text). `executor`: one of
    `sim.experiments.executors` (not shut down here), or None to run here. `progress(line)`
    gets a line per trial and per phase. `runs` replaces the executor (tests)."""
    t0 = time.perf_counter()
    objectives = list(objectives or ["contribution"])
    budget = check_setup(scenario, brand, budget, objectives)
    if trials < 1 or replicates < 1:
        raise OptimizeError("trials: trials and replicates must be at least 1")
    final_replicates = final_replicates or max(2 * replicates, 8)
    if final_replicates < 2:
        raise OptimizeError("trials: the check on fresh seeds needs at least 2 replicates")
    levers = list(levers if levers is not None else default_levers(scenario, brand, budget))
    if not levers:
        raise OptimizeError("lever: no lever to search")
    if len({lv.key for lv in levers}) != len(levers):
        raise OptimizeError("lever: each lever once")
    seed = scenario.run.seed if seed is None else int(seed)
    cf_name, ref = reference_twin(scenario, brand, counterfactual)
    runs = runs or executor_runs(executor, engine, brand)
    ev = Evaluator(scenario, brand, levers, budget, ref, runs)
    own = own_values(scenario, brand, levers)
    own_run, own_factor = repair(scenario, brand, levers, own, budget)  # the lows must fit
    search_seeds = [seed + k for k in range(replicates)]
    final_seeds = [seed + replicates + k for k in range(final_replicates)]
    say = progress or (lambda line: None)

    def objective(asked: dict[str, Any]) -> tuple[dict[str, Any], float, dict[str, np.ndarray]]:
        values, factor = repair(scenario, brand, levers, asked, budget)
        (p,) = ev.paired([ev.scenario(values)], search_seeds)
        return values, factor, {o: p.diffs(o) for o in objectives}

    def each(trial: Trial, done: list[Trial]) -> None:
        top = max(t.objectives[objectives[0]] for t in done)
        fmt = _fmt(objectives[0])
        say(
            f"trial {trial.number + 1}/{trials}: {objectives[0]} "
            f"{fmt(trial.objectives[objectives[0]])} (best so far {fmt(top)})"
            + ("" if trial.factor == 1.0 else f"; spend scaled by {trial.factor:.2f} to fit")
        )

    say(
        f"searching {len(levers)} levers of {brand}: {trials} trials x {replicates} replicates "
        f"against {ref.name}, budget {budget:,.0f} yuan/year"
    )
    done = search(
        levers,
        objective,
        objectives,
        trials,
        seed,
        first=own_run,
        planned=lambda v: planned_spend(scenario, brand, v),
        progress=each,
    )
    best = best_trial(done, objectives)
    best_sc = ev.scenario(best.values)
    own_sc = ev.scenario(own_run)
    say(f"checking the best against the scenario's own on {final_replicates} fresh seeds")
    pb, po = ev.paired([best_sc, own_sc], final_seeds)
    rows = []
    for o in dict.fromkeys([*objectives, "contribution"]):
        for label, x in (
            ("best", pb.diffs(o)),
            ("own", po.diffs(o)),
            ("best - own", pb.diffs(o) - po.diffs(o)),
        ):
            rows.append((label, o, *interval(x), len(x)))
    comparison = pd.DataFrame(rows, columns=["allocation", "objective", "mean", "low", "high", "n"])
    check = {o: float(pb.diffs(o)[0]) for o in OBJECTIVES}
    roi_table = (
        marginal_roi(ev, levers, best.values, pb, final_seeds, say)
        if roi
        else pd.DataFrame(columns=ROI_COLUMNS)
    )
    return OptimizeResult(
        base=scenario,
        brand=brand,
        budget=budget,
        levers=levers,
        objectives=objectives,
        counterfactual=cf_name,
        reference=ref,
        own=own_run,
        own_factor=own_factor,
        best=best,
        best_scenario=best_sc,
        own_scenario=own_sc,
        trials=done,
        search_seeds=search_seeds,
        final_seeds=final_seeds,
        comparison=comparison,
        roi=roi_table,
        check=check,
        seconds=time.perf_counter() - t0,
        engine=engine,
        executor=getattr(executor, "name", "serial") if executor is not None else "serial",
        front=pareto(done, objectives) if len(objectives) > 1 else [],
    )


ROI_COLUMNS = [
    "lever",
    "direction",
    "value",
    "d_contribution",
    "d_contribution_low",
    "d_contribution_high",
    "d_marketing_cost",
    "marginal_roi",
    "roi_low",
    "roi_high",
    "n",
    "note",
]


def marginal_roi(
    ev: Evaluator,
    levers: list[Lever],
    best: Mapping[str, Any],
    at_best: Paired,
    seeds: list[int],
    say: Callable[[str], None],
) -> pd.DataFrame:
    """Each continuous lever moved down and up by ROI_STEP of its range from the optimum
    (within its range and the budget), run on the fresh seeds: Δ contribution (t-interval of
    the paired differences from the optimum), Δ marketing cost, and the marginal ROI
    Δ contribution / Δ marketing cost (yuan of contribution per extra yuan spent; percentile
    bootstrap, `sim.effects.ratio_interval`). A move that leaves the budget is not run."""
    moves: list[tuple[Lever, str, float]] = []
    notes: list[tuple[Lever, str, float, str]] = []
    for lv in levers:
        if lv.discrete or lv.high <= lv.low:
            continue
        step = ROI_STEP * (lv.high - lv.low)
        if lv.integer:
            step = max(1.0, round(step))
        for direction, sign in (("down", -1), ("up", 1)):
            v = float(best[lv.key]) + sign * step
            v = min(max(v, lv.low), lv.high)
            if v == float(best[lv.key]):
                notes.append((lv, direction, v, "at the bound of its range"))
            elif planned_spend(ev.base, ev.brand, {**best, lv.key: v}) > ev.budget:
                notes.append((lv, direction, v, "over the budget"))
            else:
                moves.append((lv, direction, v))
    say(f"marginal ROI: {len(moves)} moves x {len(seeds)} seeds")
    rows = []
    if moves:
        scs = [ev.scenario({**best, lv.key: v}) for lv, _, v in moves]
        results = ev.paired(scs, seeds)
        base_c = at_best.diffs("contribution")
        base_m = at_best.diffs("marketing_cost")
        level = float(np.mean([r["marketing_cost"] for r in at_best.levels]))
        for (lv, direction, v), p in zip(moves, results, strict=True):
            dc = p.diffs("contribution") - base_c
            dm = p.diffs("marketing_cost") - base_m
            mean, low, high = interval(dc)
            r, rlo, rhi, n = ratio_interval(dc, dm)
            note = ""
            if abs(float(np.mean(dm))) < FLAT_SPEND * abs(level):
                note = "spend hardly moves: read Δ contribution, not the ratio"
            rows.append(
                (lv.key, direction, v, mean, low, high, float(np.mean(dm)), r, rlo, rhi, n, note)
            )
    for lv, direction, v, note in notes:
        nan = math.nan
        rows.append((lv.key, direction, v, nan, nan, nan, nan, nan, nan, nan, 0, note))
    order = {lv.key: i for i, lv in enumerate(levers)}
    table = pd.DataFrame(rows, columns=ROI_COLUMNS)
    return table.sort_values(
        ["lever", "direction"], key=lambda c: c.map(order) if c.name == "lever" else c
    ).reset_index(drop=True)


__all__ = [
    "OBJECTIVES",
    "Lever",
    "OptimizeError",
    "OptimizeResult",
    "default_levers",
    "optimize",
    "parse_lever",
    "repair",
    "search",
]
