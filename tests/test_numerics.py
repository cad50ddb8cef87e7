"""Numerics that cannot escape: the bounded rules (skips, need days, Gamma shapes, Hill
powers) at their limits, compiled and plain alike, and the runs that once crashed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario, rules
from sim.params import ALLOW_LARGE_ENV, HARD_LIMIT
from sim.runner import ENGINES, run
from tests.ledger_checks import check_kpis_defined_or_none

TINY_HAZARDS = (5e-324, 1e-300, 1e-20, 1e-17, 1e-16)
U_NEAR_ONE = 1.0 - 2.0**-53
"""The largest uniform draw on [0, 1): the longest skip a hazard can give."""


def test_skip_scale_limits():
    assert rules.skip_scale(1.0) == 0.0
    assert rules.skip_scale(2.0) == 0.0
    assert rules.skip_scale(0.0) == -math.inf
    assert rules.skip_scale(-0.5) == -math.inf
    assert rules.skip_scale(math.nan) == -math.inf
    assert rules.skip_scale(0.25) == 1.0 / math.log1p(-0.25)
    assert rules.skip_scale(5e-324) == -math.inf  # 1/log(1-h) overflows: never


@pytest.mark.parametrize("h", TINY_HAZARDS)
def test_a_tiny_hazard_skips_beyond_the_horizon(h):
    """Below ~1e-16 the unbounded skip exceeds 2^63 and wrapped to a negative index."""
    scale = rules.skip_scale(h)
    assert rules.geometric_skip(U_NEAR_ONE, scale, 1000) == 1001
    assert rules.geometric_skip(0.5, scale, 2**31) == 2**31 + 1


def test_skip_is_the_unbounded_draw_below_the_horizon():
    """Bounding changes nothing where the skip lies within the horizon (so no valid run's
    draws change): 1 + floor(log(1 - u) / log(1 - h))."""
    for h in (0.001, 0.02, 0.3, 0.999):
        scale = rules.skip_scale(h)
        for u in (0.0, 0.1, 0.5, 0.9, U_NEAR_ONE):
            unbounded = 1 + int(math.log(1.0 - u) * scale)
            got = rules.geometric_skip(u, scale, 10**6)
            assert got == (unbounded if unbounded <= 10**6 else 10**6 + 1)
    assert rules.geometric_skip(0.7, rules.skip_scale(1.0), 5) == 1  # certain: every trial
    assert rules.geometric_skip(0.0, rules.skip_scale(0.0), 5) == 6  # NaN (0 * inf): never


@settings(max_examples=200, deadline=None)
@given(
    h=st.one_of(st.sampled_from([0.0, 1.0, *TINY_HAZARDS]), st.floats(0.0, 1.0)),
    u=st.floats(0.0, U_NEAR_ONE),
    horizon=st.integers(1, 2**31),
)
def test_skips_stay_within_one_past_the_horizon(h, u, horizon):
    k = rules.geometric_skip(u, rules.skip_scale(h), horizon)
    assert 1 <= k <= horizon + 1


def test_geometric_skip_is_geometric():
    """Mean of the draw is 1/h (the inversion is exact in distribution)."""
    u = np.random.default_rng(5).random(50_000)
    scale = rules.skip_scale(0.05)
    draws = [rules.geometric_skip(x, scale, 10**9) for x in u]
    assert np.mean(draws) == pytest.approx(20.0, rel=0.02)


def test_need_day_never_leaves_int64():
    assert rules.need_day(10, 5) == 15
    assert rules.need_day(10, rules.NEVER_DAY) == rules.NEVER_DAY
    assert rules.need_day(10, rules.NEVER_DAY - 10) == rules.NEVER_DAY
    assert rules.need_day(10, rules.NEVER_DAY - 11) == rules.NEVER_DAY - 1
    assert rules.need_day(3, 2**63 - 1) == rules.NEVER_DAY  # Generator.geometric's cap
    days = np.full(1, -1, dtype=np.int64)
    days[0] = rules.need_day(100, 2**63 - 1)  # the reference engine's store: no OverflowError


@pytest.mark.parametrize("cv", [1e-154, 1e-160, 1e-170, 5e-324, 0.0])
def test_a_vanishing_spread_is_degenerate_at_the_mean(cv):
    """cv² once underflowed to 0 and 1/cv² divided by zero."""
    shape, scale = rules.gamma_shape_scale(2.0, cv)
    assert math.isfinite(shape) and shape <= rules.GAMMA_SHAPE_MAX
    draws = np.random.default_rng(1).gamma(shape, scale, size=100)
    np.testing.assert_allclose(draws, 2.0, rtol=1e-12)


@pytest.mark.parametrize("cv", [1e151, 1e200, math.inf])
def test_a_huge_spread_keeps_a_finite_scale(cv):
    shape, scale = rules.gamma_shape_scale(2.0, cv)
    assert shape == rules.GAMMA_SHAPE_MIN and math.isfinite(float(scale))
    assert np.isfinite(np.random.default_rng(1).gamma(shape, scale, size=100)).all()


def test_ordinary_spreads_are_unchanged():
    for cv in (0.05, 0.3, 1.0, 4.0):
        shape, scale = rules.gamma_shape_scale(3.0, cv)
        assert shape == 1.0 / cv**2 and scale == 3.0 / shape


def test_bounded_gamma_shape():
    assert rules.bounded_gamma_shape(5e-324) == rules.GAMMA_SHAPE_MIN
    assert rules.bounded_gamma_shape(1e308) == rules.GAMMA_SHAPE_MAX
    assert rules.bounded_gamma_shape(0.1) == 0.1


def test_poisson_means_are_capped():
    assert rules.bounded_poisson_mean(15.0) == 15.0
    assert rules.bounded_poisson_mean(1e20) == rules.POISSON_MEAN_MAX
    assert np.random.default_rng(3).poisson(rules.bounded_poisson_mean(1e300)) > 0


def test_beta_parameters_stay_positive():
    """A concentration of 5e-324 once gave b = 0 and a ValueError from the draw."""
    a, b = rules.beta_ab(0.7, 5e-324)
    assert a > 0 and b > 0
    draws = np.random.default_rng(2).beta(a, b, size=50)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert rules.beta_ab(0.7, 10.0) == (0.7 * 10.0, (1.0 - 0.7) * 10.0)


@pytest.mark.parametrize(
    ("x", "k", "s"),
    [
        (0.0, 5e-324, 2.0),
        (1e-200, 1e-300, 3.0),
        (1e200, 1.0, 3.0),
        (1e200, 1e200, 3.0),
        (0.0, 1e300, 300.0),
        (1e10, 5e-324, 1.0),
    ],
)
def test_hill_stays_a_share_at_the_float_limits(x, k, s):
    h = rules.hill(x, k, s)
    assert 0.0 <= h <= 1.0


def test_compiled_bounded_rules_equal_python():
    from sim.fast import jit

    for h in (0.0, 1.0, 0.3, 1e-20, 5e-324):
        assert jit.skip_scale(h) == rules.skip_scale(h)
        scale = rules.skip_scale(h)
        for u in (0.0, 0.5, U_NEAR_ONE):
            assert jit.geometric_skip(u, scale, 1000) == rules.geometric_skip(u, scale, 1000)
    for today, wait in ((3, 4), (5, 2**63 - 1), (0, rules.NEVER_DAY)):
        assert jit.need_day(today, wait) == rules.need_day(today, wait)
    for args in ((0.0, 5e-324, 2.0), (2.0, 2.0, 1.5), (1e200, 1.0, 3.0)):
        assert jit.hill(*args) == rules.hill(*args)


# runs that crashed before the rules were bounded, at a size where they still crashed
# (segfault on the fast engine; OverflowError, ZeroDivisionError or ValueError elsewhere)
CRASHED = [
    ("beauty_guides", "population.organic_awareness", 1e-20),
    ("beauty_guides", "population.awareness_decay", 1e-20),
    ("beauty_guides", "population.wom_rate", 1e-20),
    ("beauty_guides", "brands.brand.strategy.targeting_precision", 1e-20),
    ("beauty_guides", "platform.ad_max_hazard", 1e-20),
    ("beauty_guides", "population.need_shape", 0.1),
    ("beauty_guides", "population.price_sensitivity_cv", 1e-170),
    ("beauty_guides", "brands.brand.strategy.guide_skill_sd", 1e-170),
    ("beauty_guides", "population.platform_trust_concentration", 5e-324),
    # 1e20 crashed; the schema now stops daily counts at HARD_LIMIT (and, without
    # SIYU_ALLOW_LARGE, far lower): the largest value it can let through must still run
    ("beauty_guides", "population.attention_slots_mean", float(HARD_LIMIT)),
    ("beauty_guides", "brands.brand.strategy.guide_touches_per_day", float(HARD_LIMIT)),
    ("employee_distributors", "brands.retailer.strategy.employee_circle", float(HARD_LIMIT)),
    # brands that copy tea_1 stop advertising: their fading ad memory is a tiny hazard
    ("adaptive_market", "brands.tea_1.strategy.ad_budget_per_day", 0.0),
]
DAYS = {"adaptive_market": 300}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "key", "value"), CRASHED, ids=[c[1] for c in CRASHED])
def test_runs_that_crashed_now_finish(name, key, value, engine, monkeypatch):
    monkeypatch.setenv(ALLOW_LARGE_ENV, "1")
    days = DAYS.get(name, 120)
    sc = load_scenario(name, {key: value, "run.consumers": 300, "run.days": days})
    result = run(sc, 1, engine)
    assert len(result.ledger) == days * len(sc.brands)
    check_kpis_defined_or_none(result.summary["kpis"])
