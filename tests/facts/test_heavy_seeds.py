"""The stylised facts seed by seed over more seeds (heavy: `pytest -m heavy`). Each seed on
its own must show the direction of the fact, with looser bounds than the averaged tests."""

from __future__ import annotations

import pytest

from tests.facts.common import brand_kpi, runs, window_ratio

pytestmark = pytest.mark.heavy
SEEDS = range(1, 7)


@pytest.mark.parametrize("seed", SEEDS)
def test_roas_decays_each_seed(seed):
    r = [runs("public_only", seed)[-1]]
    early = window_ratio(r, "gmv_first_ads", "cost_ads", 90, 270)
    late = window_ratio(r, "gmv_first_ads", "cost_ads", 365, 730)
    assert late < early
    assert 0.5 <= late <= 1.1


@pytest.mark.parametrize("seed", SEEDS)
def test_guides_lift_store_sales_each_seed(seed):
    on = [runs("guides_at_scale", seed)[-1]]
    off = [runs("guides_at_scale", seed, brands__brand__strategy__guides_per_store=0.0)[-1]]
    # the direction: guides lift store sales on every seed (seed 6 only just: 1.004, as the
    # members' habit for the mini-program takes some of their orders from the store)
    assert 1.0 < brand_kpi(on, "gmv_store") / brand_kpi(off, "gmv_store") <= 1.25


@pytest.mark.parametrize("seed", SEEDS)
def test_brand_a_private_roi_below_public_each_seed(seed):
    r = [runs("brand_a", seed)[-1]]
    assert brand_kpi(r, "roi_private") < brand_kpi(r, "roi_public")
    assert r[0].ledger["stock_members"].iloc[-1] < r[0].ledger["stock_members"].iloc[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_coffee_private_share_rises_each_seed(seed):
    r = [runs("coffee_miniprogram", seed)[-1]]
    assert window_ratio(r, "gmv_private", "gmv_total", 640, 730) >= 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_hunters_take_most_rewards_each_seed(seed):
    r = [runs("fission_hunters", seed)[-1]]
    assert brand_kpi(r, "hunter_reward_share") > 0.4


@pytest.mark.parametrize("seed", SEEDS)
def test_market_penetration_climbs_each_seed(seed):
    r = [runs("adaptive_market", seed)[-1]]
    days = r[0].scenario.run.days
    assert window_ratio(r, "gmv_private", "gmv_total", days - 90, days) >= 0.1
