"""Markets that scale: `sim.scaling.scale_market` multiplies exactly the extensive quantities,
staff counts are drawn without bias, and per-capita KPIs do not move with the population.

The scale-invariance test runs a guides scenario (beauty_guides) and a multi-brand one
(bench_three_brands) at ×1 = 750 consumers (every brand with guides keeps at least one:
beauty_guides has 1.25 expected; see `test_thin_staff_is_noted`), ×2 and ×4 (each scaled from
its file with `scale_market`), 180 days, 6 replicates on the fast engine, and asks that the
per-capita KPIs (members, customers, GMV and contribution per consumer, total ROI, private
share) at ×2 and ×4 agree with ×1 within replicate intervals: each difference's Welch t
interval holds 0, at 95% for the family of KPIs compared (Bonferroni). The same criterion
catches the population-only change (`run.consumers` alone), so it can fail.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from scipy import stats

from sim.params import BrandParams, PlatformParams, Scenario, StrategyParams, is_extensive
from sim.runner import run
from sim.scaling import describe, extensive_keys, scale_market, thin_staff
from sim.scenario import ScenarioError, load_scenario
from sim.staffing import draw_count, guide_skills
from tests.helpers import cli as run_cli

BASE = 750
DAYS = 180
REPLICATES = 6
PER_CAPITA = ("members", "customers", "gmv", "contribution")
"""KPIs divided by the population (members, customers, GMV and contribution per consumer)."""
RATIOS = ("roi_total", "private_share")
"""KPIs that are already ratios."""

EXTENSIVE = {
    "platform.reference_ad_demand",
    "brands.*.stores",
    "brands.*.store_visits_per_day",
    "brands.*.annual_budget",
    "brands.*.strategy.ad_budget_per_day",
    "brands.*.strategy.koc_count",
    "brands.*.strategy.employee_distributors",
    "brands.*.strategy.tooling_per_day",
}
"""The extensive quantities the issue names; every other parameter is intensive."""


def flat(data: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def wildcard(key: str) -> str:
    parts = key.split(".")
    return ".".join(["brands", "*", *parts[2:]]) if parts[0] == "brands" else key


# ----------------------------------------------------------------- which keys are extensive


def test_the_extensive_marks_are_the_named_quantities():
    marked = {
        *(f"brands.*.{n}" for n in BrandParams.model_fields if is_extensive(BrandParams, n)),
        *(
            f"brands.*.strategy.{n}"
            for n in StrategyParams.model_fields
            if is_extensive(StrategyParams, n)
        ),
        *(f"platform.{n}" for n in PlatformParams.model_fields if is_extensive(PlatformParams, n)),
    }
    assert marked == EXTENSIVE
    assert {wildcard(k) for k in extensive_keys(load_scenario("bench_three_brands"))} == EXTENSIVE
    assert not any(is_extensive(Scenario, n) for n in Scenario.model_fields)


@pytest.mark.parametrize("name", ["beauty_guides", "bench_three_brands", "fmcg_small_b"])
def test_scale_market_changes_exactly_the_extensive_keys(name):
    sc = load_scenario(name)
    scaled, changes = scale_market(sc, sc.run.consumers * 3)
    before, after = flat(sc.model_dump()), flat(scaled.model_dump())
    moved = {k for k in before if before[k] != after[k]}
    nonzero = {k for k in extensive_keys(sc) if before[k] != 0}
    assert moved == nonzero | {"run.consumers"}
    assert {c.key for c in changes} == nonzero
    for key in nonzero:
        assert after[key] == pytest.approx(3 * before[key])
    assert after["run.consumers"] == 3 * sc.run.consumers


def test_scale_market_at_the_own_population_is_the_identity():
    sc = load_scenario("bench_three_brands")
    same, changes = scale_market(sc, sc.run.consumers)
    assert same == sc and changes == []


def test_scaling_down_keeps_fractional_counts_as_expectations():
    sc = load_scenario("beauty_guides")  # 3,000 consumers, 10 stores x 0.5 guides
    scaled, changes = scale_market(sc, 800)
    brand = scaled.brands["brand"]
    assert brand.stores == pytest.approx(10 * 800 / 3000)
    assert brand.strategy.guides_per_store == 0.5  # intensive: guides follow the stores
    line = describe(3000, 800, changes)
    assert line.startswith("scaled to 800 consumers (x0.2667 of the scenario's 3,000): ")
    assert "brand.stores 10→2.667" in line and "reference_ad_demand 5,000→1,333" in line


def test_thin_staff_is_noted():
    """Below one expected guide a brand sometimes has none, and its guides' invitations
    with them: scaling is linear in staff counts only from one up, so it is said."""
    small, _ = scale_market(load_scenario("beauty_guides"), 500)  # 0.83 guides
    assert thin_staff(small) == [
        "brand has 0.83 guides expected, fewer than one: none in 17% of runs"
    ]
    assert thin_staff(scale_market(load_scenario("beauty_guides"), BASE)[0]) == []


@pytest.mark.parametrize("bad", [0, -5, 100_000_001, 10**30])
def test_scale_market_refuses_a_bad_population_in_one_line(bad):
    with pytest.raises(ScenarioError) as info:
        scale_market(load_scenario("beauty_guides"), bad)
    assert (info.value.file, info.value.key) == ("--consumers", "run.consumers")


def test_a_scaled_count_above_its_limit_names_its_key():
    sc = load_scenario("national_guides")  # 3,600 stores for 2,000 consumers
    with pytest.raises(ScenarioError) as info:
        scale_market(sc, 1_000_000)  # 1.8 million stores: above the limit of 1 million
    assert (info.value.file, info.value.key) == ("--consumers", "brands.bosideng.stores")


# ----------------------------------------------------------------- unbiased staff counts


def test_draw_count_is_unbiased_and_deterministic_per_seed():
    rng = np.random.default_rng(7)
    draws = np.array([draw_count(2.5, rng) for _ in range(20_000)])
    assert set(draws.tolist()) == {2, 3}
    assert abs(draws.mean() - 2.5) < 4 * 0.5 / math.sqrt(draws.size)  # 4 standard errors
    for expected in (0.3, 1.0 / 3.0, 7.9):
        rng = np.random.default_rng(11)
        d = np.array([draw_count(expected, rng) for _ in range(20_000)])
        sd = math.sqrt((expected % 1) * (1 - expected % 1) / d.size)
        assert abs(d.mean() - expected) < 4 * sd
    again = [draw_count(2.5, np.random.default_rng(3)) for _ in range(5)]
    assert len(set(again)) == 1


def test_a_whole_count_draws_nothing():
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    assert draw_count(5.0, rng) == 5
    assert draw_count(7 / 3 * 3, rng) == 7  # 7.000000000000001: whole up to rounding
    assert draw_count(0.0, rng) == 0
    assert rng.bit_generator.state == state


def test_half_guides_are_not_rounded_to_even():
    """5 stores x 0.5 guides: 2 or 3 guides, 2.5 on average (round half to even gave 2)."""
    strategy = StrategyParams(guides_per_store=0.5, guide_skill_sd=0.0)
    rng = np.random.default_rng(5)
    counts = np.array([guide_skills(strategy, 5, rng).size for _ in range(4_000)])
    assert set(counts.tolist()) == {2, 3}
    assert abs(counts.mean() - 2.5) < 4 * 0.5 / math.sqrt(counts.size)


# ----------------------------------------------------------------- the command line


def test_run_consumers_scales_and_says_so(tmp_path, capsys):
    out = tmp_path / "o"
    code, _, err = run_cli(
        ["run", "beauty_guides", "--days", 5, "--consumers", 600, "--out", out, "--no-report"],
        capsys,
    )
    assert code == 0
    assert "scaled to 600 consumers (x0.2 of the scenario's 3,000): " in err
    assert "brand.stores 10→2" in err and "brand.ad_budget_per_day 300→60" in err


def test_validate_consumers_scales_and_set_alone_does_not(capsys):
    import json

    code, out, err = run_cli(["validate", "beauty_guides", "--consumers", 6000], capsys)
    assert code == 0 and "scaled to 6,000 consumers (x2" in err
    scaled = json.loads(out)
    assert scaled["brands"]["brand"]["stores"] == 20 and scaled["run"]["consumers"] == 6000
    code, out, err = run_cli(["validate", "beauty_guides", "--set", "run.consumers=6000"], capsys)
    plain = json.loads(out)
    assert code == 0 and "scaled" not in err
    assert plain["brands"]["brand"]["stores"] == 10 and plain["run"]["consumers"] == 6000


@pytest.mark.parametrize("bad", ["0", "-5", "100000001"])
def test_bad_consumers_is_one_line_exit_2(bad, capsys):
    code, _, err = run_cli(["validate", "beauty_guides", "--consumers", bad], capsys)
    assert code == 2
    assert err.startswith("error: --consumers: run.consumers: ") and err.count("\n") == 1


# ----------------------------------------------------------------- scale invariance


@cache
def per_capita(name: str, consumers: int, scaled: bool) -> dict[tuple[str, str], np.ndarray]:
    """(brand or 'market', KPI) -> one value per replicate, at `consumers` scaled from the
    file (or, with scaled=False, the ×1 market with only its population changed)."""
    sc = load_scenario(name, {"run.days": DAYS})
    one, _ = scale_market(sc, BASE)
    if scaled:
        sc, _ = scale_market(sc, consumers)
    else:
        sc = one.model_copy(update={"run": one.run.model_copy(update={"consumers": consumers})})
    rows: dict[tuple[str, str], list[float]] = {}
    for seed in range(1, REPLICATES + 1):
        kpis = run(sc, seed, "fast").summary["kpis"]
        for who, k in [("market", kpis["market"]), *kpis["brands"].items()]:
            for key in PER_CAPITA:
                rows.setdefault((who, key), []).append(k[key] / consumers)
            for key in RATIOS:
                value = k[key]
                rows.setdefault((who, key), []).append(np.nan if value is None else value)
    return {k: np.asarray(v, dtype=float) for k, v in rows.items()}


def difference_interval(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, float]:
    """The Welch t interval of mean(y) − mean(x) at `level` (replicates, not paired)."""
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0:
        return (0.0, 0.0) if x.mean() == y.mean() else (math.inf, math.inf)
    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = stats.t.ppf(0.5 + level / 2, dof) * se
    d = y.mean() - x.mean()
    return d - half, d + half


def disagreements(name: str, factor: int, scaled: bool = True) -> list[str]:
    """The per-capita KPIs whose mean at ×factor differs from ×1 beyond replicate noise: the
    difference's interval misses 0, at 95% for the family of KPIs compared (Bonferroni)."""
    one = per_capita(name, BASE, True)
    other = per_capita(name, BASE * factor, scaled)
    level = 1 - 0.05 / len(one)
    out = []
    for key, x in one.items():
        lo, hi = difference_interval(x, other[key], level)
        if lo > 0 or hi < 0:
            out.append(f"{key}: x1 {np.nanmean(x):.4g}, x{factor} {np.nanmean(other[key]):.4g}, "
                       f"difference in [{lo:.4g}, {hi:.4g}]")  # fmt: skip
    return out


@pytest.mark.parametrize("name", ["beauty_guides", "bench_three_brands"])
@pytest.mark.parametrize("factor", [2, 4])
def test_per_capita_kpis_do_not_move_with_the_population(name, factor):
    assert disagreements(name, factor) == []


def test_the_population_alone_moves_them():
    """The criterion has power: changing run.consumers alone (×4: a market four times
    thinner in stores, budgets and nodes) moves per-capita KPIs out of their intervals."""
    assert len(disagreements("beauty_guides", 4, scaled=False)) >= 2
