"""Verification against analytic limits (Rand & Rust 2011): the Bass diffusion case against
its closed form, the constant-retention case against the closed-form CLV."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, rules, run


def _bass_p(sc) -> float:
    """The advertising hazard the Bass scenario's parameters imply (adstock θ = 0)."""
    brand = sc.brands["brand"]
    pf = sc.platform
    cpm = rules.traffic_cpm(
        pf.base_cpm,
        pf.cpm_growth_per_year,
        0,
        0.0,
        pf.reference_ad_demand,
        pf.cpm_demand_elasticity,
    )
    impressions = brand.strategy.ad_budget_per_day / cpm * 1000.0
    return float(
        rules.ad_awareness_hazard(
            impressions,
            sc.run.consumers,
            brand.strategy.targeting_precision,
            pf.ad_max_hazard,
            pf.hill_k,
            pf.hill_s,
        )
    )


def test_bass_case_follows_the_closed_form_curve():
    sc = load_scenario("verify_bass")
    p, q = _bass_p(sc), sc.population.wom_rate
    # daily probabilities -> continuous hazards of the closed form
    p_c, q_c = -np.log1p(-p), q
    curves = []
    for seed in (1, 2):
        led = run(sc, seed).ledger
        curves.append(led["stock_ever_customers"].to_numpy() / sc.run.consumers)
    simulated = np.mean(curves, axis=0)
    t = np.arange(1, sc.run.days + 1)
    expected = rules.bass_cdf(t, p_c, q_c)
    assert np.max(np.abs(simulated - expected)) < 0.03
    # and the curve is S-shaped, not the pure-advertising exponential
    assert simulated[60] > 1.5 * (1 - np.exp(-p_c * 61))


def test_constant_retention_case_matches_closed_form_clv():
    sc = load_scenario("verify_retention")
    cat = sc.categories["default"]
    margin = cat.price * cat.gross_margin
    retention = 1.0 - cat.dropout_mean
    p_day = rules.daily_need_probability(cat.purchases_per_year / 365.0)
    delta = rules.daily_discount_factor(sc.market.discount_rate_per_year)
    phi = p_day * delta / (1.0 - (1.0 - p_day) * delta)  # E[delta^T], T ~ Geometric(p_day)
    expected = rules.retention_clv(margin, retention, 1.0 / phi - 1.0)
    values = []
    for seed in (1, 2):
        t = run(sc, seed).ledger.sum(numeric_only=True)
        n = t["cohort365_n_organic"]
        assert n > 0.95 * sc.run.consumers
        # discounted first-year value per new customer, less the acquisition purchase
        values.append(t["cohort365_pv_organic"] / n - cat.price)
    assert np.mean(values) == pytest.approx(expected, rel=0.03)
