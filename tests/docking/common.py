"""Docking two engines (model-to-model alignment, Axtell et al. 1996): shared helpers.

A *docking check* runs one scenario R times on the reference engine (seeds 1..R) and R
times on the candidate engine (seeds 1001..1000+R: independent samples, so that docking an
engine with itself is a real test and not a byte comparison), reads a fixed set of KPIs
from `summary["kpis"]` of each run (`metrics_for`: GMV, private share of GMV and the
private-influenced share, blended CAC, total and private ROI, members at the end, new
customers, LTV, store GMV, repurchase rate, new members, touches, mutes, fake members, KOC
reach; per brand, and for the market where there are several brands), and compares the
two samples metric by metric.

The rule (distributional equivalence, Axtell et al.'s second level): a metric passes when

    |mean_cand - mean_ref| <= allowed = max(REL_TOL * |mean_ref|,  floor,  t * SE)

that is, when the difference is immaterial or the confidence interval of the difference
contains 0:

- `REL_TOL = 0.10`: a difference below 10% of the reference mean is immaterial for what
  the KPIs are used for (comparing strategies whose effects in the shipped scenarios are
  10-50% and more); it is also about the resolution 4 runs allow on the steadier KPIs
  (GMV, CAC and ROI vary by 1-5% from seed to seed at the shipped sizes).
- `floor`: an absolute difference that is immaterial whatever the mean (it matters where
  the reference mean is near zero): 1 percentage point for shares, 0.05 for ROI, 1% of the
  category price for CAC and LTV, 0.2% of the population for counts of people and events,
  and one order's GMV for each of 0.2% of the population for money (`_floor`).
- `SE = sqrt(s_ref^2/n_ref + s_cand^2/n_cand)` is Welch's standard error of the difference
  of means and `t` the two-sided Student quantile at `ALPHA = 0.002` for the
  Welch–Satterthwaite degrees of freedom: the band is the 99.8% confidence interval of the
  difference. The "z" is thus 5.2 at R = 4 with equal spreads (up to 10 when one side is
  much more spread: df -> 3), 3.5 at R = 12 and 3.1 in the limit. A fixed z = 3 would be
  wrong at R = 4, where a t with ~6 degrees of freedom puts 2.4% of its mass beyond 3:
  with ~300 metrics in the default suite, several would fail by chance on every run.
- The reported statistic is Welch's t-test (`scipy.stats.ttest_ind(equal_var=False)`):
  t and its two-sided p-value are printed for every metric.
- Confirmation (`assert_docks`, default and heavy suites): a scenario that fails with R runs a
  side is checked again with 2R (the first R from the cache) and fails only if it fails
  again. Docking the reference engine with itself (16 runs a scenario at the default-suite
  sizes, resampled 400 times into 4-vs-4 checks with 8-vs-8 confirmation): some scenario
  failed the 4-run check in 4% of suite passes, and the confirmed check in 0.5%.
- Power, same set-up (the reference docked with itself with one lever changed on the
  candidate side, R = 4): ad budget +25% in public_only (CAC +20%, ROI -14%), the quota
  regime in beauty_guides (new members +25%, mutes x30) and fatigue tolerance 6 -> 4
  (mutes x7) all fail; selling conversion 0.15 -> 0.10 (KPIs move by less than 10%) passes.

Undefined KPIs (`None`: a ratio with a zero denominator, such as `roi_private` without
private costs or `ltv365` in a one-year run) are compared by how often they are undefined
(runs are not paired, so "undefined in the same runs" means "as often"): the metric fails
when one engine leaves it undefined in every run and the other in none, or when Fisher's
exact test on the counts rejects at ALPHA; it is not compared (shown "undefined") when
undefined in more than half the runs of both engines; otherwise the defined values are
compared by the rule above (at least two a side, else "too few").

Where brands imitate each other (`adaptive`), only the market and the first brand are
compared (see `metrics_for`).

Engines: the reference is `SIYU_DOCK_REFERENCE` (default "agents") and the candidate
`SIYU_DOCK_CANDIDATE` (default "fast"); a docking test is skipped while the candidate is
not in `sim.runner.ENGINES`. `SIYU_DOCK_CANDIDATE=agents pytest tests/docking` docks the
reference engine with itself; `SIYU_DOCK_REPLICATES` changes R in the default suite.

Cost: runs are deterministic per (scenario, overrides, seed, engine) and cached in-process
(`functools.cache`); each test file runs in one xdist worker (`--dist loadfile`), so the
scenarios are spread over four files by `GROUPS`. The default suite uses R = 4 and
shrinks, by `SHRINK`, only the two scenarios whose reference run takes more than ~10 s:
about 4 x 55 CPU-seconds of reference runs in all (plus the candidate's; ~2 min on two
workers). The heavy variant (`pytest -m heavy tests/docking`) uses R = 12 at the shipped
sizes (about 12 x 65 CPU-seconds of reference runs).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim import load_scenario, run
from sim.params import Scenario
from sim.scenario import shipped_scenarios

REFERENCE = os.environ.get("SIYU_DOCK_REFERENCE", "agents")
CANDIDATE = os.environ.get("SIYU_DOCK_CANDIDATE", "fast")
REPLICATES = int(os.environ.get("SIYU_DOCK_REPLICATES", "4"))
"""Replicates per engine in the default suite."""
REPLICATES_HEAVY = 12
"""Replicates per engine in the heavy variant (`pytest -m heavy`)."""
CANDIDATE_SEED_OFFSET = 1000
"""Candidate runs use seeds 1001..1000+R: independent of the reference's 1..R."""

REL_TOL = 0.10
ALPHA = 0.002
UNDEFINED_MAJORITY = 0.5

SHRINK: dict[str, dict[str, Any]] = {
    # Reference run time of each shipped scenario at its shipped size, one seed, on the
    # 2-core dev box (CPU seconds; quiet machine, then the range seen while other jobs
    # shared it): adaptive_market 11 (15-24), coffee_miniprogram 7.5 (11-18),
    # fission_hunters 7.0 (7-10), guides_quota 5.8 (9-11), beauty_guides 5.4 (6-11),
    # guides_at_scale 5.2, bench_three_brands 4.4, national_guides 4.0, fmcg_small_b 3.2,
    # employee_distributors 3.0, private_serves_public 2.6, public_only 1.6,
    # verify_retention 1.4, brand_a 1.1, verify_bass 0.6. Only the two that take more than
    # 10 s whenever the machine is shared are shrunk in the default suite, to about 4 s:
    # the adaptive market to two years (four review rounds after the first payoff window)
    # and 600 consumers, the coffee shop to one year. The borderline guide scenarios
    # (5-7 s quiet, up to 11 s shared) stay at full size: shrinking them to 1,500
    # consumers saved only 1-2 s a run.
    "adaptive_market": {"run.days": 730, "run.consumers": 600},
    "coffee_miniprogram": {"run.days": 365},
}
"""Default-suite overrides of the scenarios that take more than ~10 s on the reference."""

GROUPS: dict[str, tuple[str, ...]] = {
    # one test file each, grouped by mechanism and balanced by reference cost (CPU seconds
    # of reference runs per replicate in the default suite: about 7, 16, 17 and 13) so that
    # xdist's two workers share them
    "public": ("public_only", "brand_a", "private_serves_public", "verify_bass",
               "verify_retention"),
    "guides": ("beauty_guides", "guides_quota", "guides_at_scale"),
    "channels": ("coffee_miniprogram", "fmcg_small_b", "employee_distributors",
                 "fission_hunters"),
    "markets": ("adaptive_market", "bench_three_brands", "national_guides"),
}  # fmt: skip
CATCH_ALL = "markets"
"""The group that also takes any shipped scenario not named in GROUPS."""


def shipped_names() -> list[str]:
    return [p.stem for p in shipped_scenarios()]


def scenarios_in(group: str) -> list[str]:
    """The shipped scenarios docked by one test file: those named in the group (in that
    order), plus, for the catch-all group, every shipped scenario no group names."""
    shipped = shipped_names()
    names = [n for n in GROUPS[group] if n in shipped]
    if group == CATCH_ALL:
        named = {n for g in GROUPS.values() for n in g}
        names += [n for n in shipped if n not in named]
    return names


# --------------------------------------------------------------------------- runs
def _items(overrides: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((overrides or {}).items()))


@cache
def run_kpis(name: str, overrides: tuple[tuple[str, Any], ...], seed: int, engine: str) -> dict:
    """The KPI summary of one run (cached: runs are deterministic per these four keys)."""
    return run(load_scenario(name, dict(overrides)), seed, engine=engine).summary["kpis"]


def seeds_for(engine_role: str, replicates: int) -> list[int]:
    offset = CANDIDATE_SEED_OFFSET if engine_role == "candidate" else 0
    return [offset + k for k in range(1, replicates + 1)]


# --------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class Metric:
    """One compared quantity: a label, how to read it from a run's KPIs, its floor."""

    label: str
    read: Callable[[dict], float | None]
    floor: float


def _kpi(scope: str, brand: str | None, key: str, sub: str | None = None):
    def read(kpis: dict) -> float | None:
        table = kpis["market"] if scope == "market" else kpis["brands"][brand]
        value = table[key] if sub is None else table[key][sub]
        return None if value is None else float(value)

    return read


BRAND_METRICS: tuple[tuple[str, str], ...] = (
    # (KPI in summarize, kind of floor)
    ("gmv", "money"),
    ("private_share", "share"),
    ("private_influenced_share", "share"),
    ("cac_blended", "price"),
    ("roi_total", "roi"),
    ("roi_private", "roi"),
    ("members", "people"),
    ("new_customers", "people"),
    # mechanism-specific, free from the same summary
    ("gmv_store", "money"),
    ("repurchase_rate", "share"),
    ("new_members", "people"),
    ("touches", "people"),
    ("mutes", "people"),
    ("fake_members", "people"),
    ("koc_reach", "people"),
)
MARKET_METRICS: tuple[tuple[str, str], ...] = (
    ("gmv", "money"),
    ("private_share", "share"),
    ("private_share_last_quarter", "share"),
    ("cac_blended", "price"),
    ("roi_total", "roi"),
    ("members", "people"),
    ("new_customers", "people"),
    ("private_ops_share_last_year", "share"),
)


def _floor(kind: str, consumers: int, price: float) -> float:
    few = max(1.0, 0.002 * consumers)
    return {
        "share": 0.01,
        "roi": 0.05,
        "price": 0.01 * price,
        "people": few,
        "money": few * price,
    }[kind]


def metrics_for(sc: Scenario) -> list[Metric]:
    """What is compared for a scenario: the brand's KPIs, or with several brands the
    market's and every brand's (prefixed by the brand); LTV is the 365-day LTV of all
    sources pooled on runs of two years or more, else the 90-day LTV.

    Where brands imitate each other (`adaptive`), only the market and the first brand are
    compared: which of several identical followers ends up running private operations is
    a coin toss of the imitation dynamics, so a follower's KPIs are bimodal across seeds
    and their means over a few runs say nothing a t-rule can use; the market sums them."""
    n = sc.run.consumers
    brands = sc.brand_names()
    price = {b: sc.categories[sc.brands[b].category].price for b in brands}
    docked = brands[:1] if any(sc.brands[b].adaptive for b in brands) else brands
    ltv = "ltv365" if sc.run.days >= 730 else "ltv90"
    out: list[Metric] = []
    if len(brands) > 1:
        mean_price = float(np.mean(list(price.values())))
        for key, kind in MARKET_METRICS:
            out.append(
                Metric(f"market.{key}", _kpi("market", None, key), _floor(kind, n, mean_price))
            )
    for b in docked:
        prefix = f"{b}." if len(brands) > 1 else ""
        for key, kind in BRAND_METRICS:
            out.append(Metric(prefix + key, _kpi("brand", b, key), _floor(kind, n, price[b])))
        out.append(
            Metric(f"{prefix}{ltv}", _kpi("brand", b, ltv, "all"), _floor("price", n, price[b]))
        )
    return out


# --------------------------------------------------------------------------- comparison
@dataclass
class Row:
    """The comparison of one metric."""

    metric: str
    status: str  # "ok", "FAIL", "undefined", "too few"
    ref: list[float] = field(default_factory=list)
    cand: list[float] = field(default_factory=list)
    ref_undefined: int = 0
    cand_undefined: int = 0
    diff: float = math.nan
    allowed: float = math.nan
    band: str = ""  # which term set `allowed`: rel, floor or t*SE
    t: float = math.nan
    p: float = math.nan

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def _mean_sd(x: list[float]) -> tuple[float, float]:
    a = np.asarray(x, float)
    if a.size == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def welch(ref: list[float], cand: list[float]) -> tuple[float, float, float, float]:
    """(SE of the difference of means, Welch–Satterthwaite df, t, two-sided p)."""
    a, b = np.asarray(ref, float), np.asarray(cand, float)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    diff = b.mean() - a.mean()
    if se == 0.0:
        return (
            0.0,
            math.inf,
            (0.0 if diff == 0 else math.copysign(math.inf, diff)),
            (1.0 if diff == 0 else 0.0),
        )
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    res = stats.ttest_ind(b, a, equal_var=False)
    return se, float(df), float(res.statistic), float(res.pvalue)


def compare_metric(
    label: str,
    ref: list[float | None],
    cand: list[float | None],
    floor: float,
    rel_tol: float = REL_TOL,
    alpha: float = ALPHA,
) -> Row:
    """Apply the docking rule (module docstring) to one metric's two samples."""
    rdef = [float(v) for v in ref if v is not None and not math.isnan(v)]
    cdef = [float(v) for v in cand if v is not None and not math.isnan(v)]
    row = Row(label, "ok", rdef, cdef, len(ref) - len(rdef), len(cand) - len(cdef))
    u_ref = row.ref_undefined / max(len(ref), 1)
    u_cand = row.cand_undefined / max(len(cand), 1)
    if {u_ref, u_cand} == {0.0, 1.0} or (
        row.ref_undefined != row.cand_undefined
        and stats.fisher_exact(
            [[row.ref_undefined, len(rdef)], [row.cand_undefined, len(cdef)]]
        ).pvalue
        < alpha
    ):
        row.status = "FAIL"
        row.band = "defined"
        return row
    if u_ref > UNDEFINED_MAJORITY and u_cand > UNDEFINED_MAJORITY:
        row.status = "undefined"
        return row
    if len(rdef) < 2 or len(cdef) < 2:
        row.status = "too few"
        return row
    m_ref, _ = _mean_sd(rdef)
    m_cand, _ = _mean_sd(cdef)
    row.diff = m_cand - m_ref
    se, df, row.t, row.p = welch(rdef, cdef)
    t_crit = float(stats.t.ppf(1.0 - alpha / 2.0, df)) if se > 0 else 0.0
    bands = {"rel": rel_tol * abs(m_ref), "floor": floor, "t*SE": t_crit * se}
    row.band = max(bands, key=bands.__getitem__)
    row.allowed = bands[row.band]
    if abs(row.diff) > row.allowed:
        row.status = "FAIL"
    return row


@dataclass
class DockReport:
    """A docking check of one scenario: its settings and one Row per metric."""

    scenario: str
    overrides: dict[str, Any]
    reference: str
    candidate: str
    ref_seeds: list[int]
    cand_seeds: list[int]
    rows: list[Row]

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [r for r in self.rows if r.failed]

    def table(self, only_failures: bool = False) -> str:
        """A readable table: metric, ref mean ± sd, cand mean ± sd, diff, allowed, t, p."""
        rows = self.failures if only_failures else self.rows
        head = (
            f"docking {self.scenario}"
            + (f" {self.overrides}" if self.overrides else "")
            + f": {self.reference} seeds {_span(self.ref_seeds)} vs {self.candidate} seeds "
            f"{_span(self.cand_seeds)}; pass if |diff| <= max({REL_TOL:g}·|ref mean|, floor, "
            f"t(1-{ALPHA:g}/2, Welch df)·SE)"
        )
        cols = ("metric", f"{self.reference} mean ± sd", f"{self.candidate} mean ± sd",
                "diff", "allowed", "by", "t", "p", "")  # fmt: skip
        lines = []
        for r in rows:
            lines.append(
                (
                    r.metric,
                    _mean_sd_text(r.ref, r.ref_undefined),
                    _mean_sd_text(r.cand, r.cand_undefined),
                    _num(r.diff),
                    _num(r.allowed),
                    r.band,
                    _num(r.t, 2),
                    _num(r.p, 3),
                    "" if r.status == "ok" else r.status,
                )
            )
        widths = [max(len(c), *(len(x[i]) for x in lines)) if lines else len(c)
                  for i, c in enumerate(cols)]  # fmt: skip
        fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
        out = [head, fmt.format(*cols), fmt.format(*("-" * w for w in widths))]
        out += [fmt.format(*x) for x in lines]
        n_fail = len(self.failures)
        out.append(f"{n_fail} of {len(self.rows)} metrics differ materially")
        return "\n".join(out)


def _span(seeds: list[int]) -> str:
    return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _num(x: float, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if digits is not None:
        return f"{x:.{digits}f}"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if ax >= 1e-3 or x == 0 else f"{x:.2e}"


def _mean_sd_text(values: list[float], undefined: int) -> str:
    if not values:
        return f"undefined ×{undefined}"
    m, s = _mean_sd(values)
    text = f"{_num(m)} ± {_num(s)}"
    return text + (f" ({undefined} undef.)" if undefined else "")


def dock(
    name: str,
    overrides: dict[str, Any] | None = None,
    replicates: int = REPLICATES,
    reference: str = REFERENCE,
    candidate: str = CANDIDATE,
    candidate_overrides: dict[str, Any] | None = None,
) -> DockReport:
    """Run the docking check of one scenario. `candidate_overrides` (default: the same as
    `overrides`) lets a test dock a deliberately different model to show the check fails."""
    overrides = dict(overrides or {})
    cand_over = overrides if candidate_overrides is None else dict(candidate_overrides)
    sc = load_scenario(name, overrides)
    ref_seeds = seeds_for("reference", replicates)
    cand_seeds = seeds_for("candidate", replicates)
    ref = [run_kpis(name, _items(overrides), s, reference) for s in ref_seeds]
    cand = [run_kpis(name, _items(cand_over), s, candidate) for s in cand_seeds]
    rows = [
        compare_metric(m.label, [m.read(k) for k in ref], [m.read(k) for k in cand], m.floor)
        for m in metrics_for(sc)
    ]
    return DockReport(name, overrides, reference, candidate, ref_seeds, cand_seeds, rows)


def require_engines(*engines: str) -> None:
    """Skip the test while an engine is not registered in sim.runner.ENGINES."""
    from sim import runner

    for engine in engines:
        if engine not in runner.ENGINES:
            pytest.skip(
                f"engine {engine!r} is not registered in sim.runner.ENGINES "
                f"({', '.join(runner.ENGINES)}); SIYU_DOCK_CANDIDATE=agents docks the "
                "reference engine with itself"
            )


def assert_docks(name: str, heavy: bool = False) -> DockReport:
    """The docking test of one shipped scenario: default suite (R = REPLICATES, shrunk
    where SHRINK says) or heavy (R = REPLICATES_HEAVY at the shipped size).

    A scenario that fails with R runs a side is checked again with 2R (the first R come
    from the cache) and fails only if that check fails too: a material difference persists
    with more runs, a chance excursion of a few runs mostly does not. This costs nothing
    while the engines agree. The heavy variant confirms too: with its 432 metrics each
    failing by chance with probability ALPHA = 0.002, up to 1 - 0.998^432 = 58% of its
    passes (fewer: the metrics are correlated) would otherwise fail with engines that
    agree."""
    require_engines(REFERENCE, CANDIDATE)
    overrides = {} if heavy else SHRINK.get(name, {})
    replicates = REPLICATES_HEAVY if heavy else REPLICATES
    report = dock(name, overrides, replicates)
    first = None
    if not report.ok:
        first, report = report, dock(name, overrides, 2 * replicates)
    message = report.table()
    if first is not None:
        message = (
            f"{first.table(only_failures=True)}\n\nconfirmed with {2 * replicates} runs a "
            f"side:\n{message}"
        )
    assert report.ok, "\n" + message
    return report


def docking_tests(group: str):
    """The two tests of a docking file: one per scenario of `group`, and the heavy variant
    (more replicates at the shipped size). Each group is its own file so that xdist
    (`--dist loadfile`) spreads the groups over workers."""
    import pytest

    names = scenarios_in(group)

    @pytest.mark.parametrize("name", names, ids=names)
    def test_docks(name: str) -> None:
        assert_docks(name)

    @pytest.mark.heavy
    @pytest.mark.parametrize("name", names, ids=names)
    def test_docks_heavy(name: str) -> None:
        assert_docks(name, heavy=True)

    return test_docks, test_docks_heavy
