"""The stylised facts seed by seed over more seeds (heavy: `pytest -m heavy`). Each seed on
its own must show the direction of the fact, with looser bounds than the averaged tests."""

from __future__ import annotations

import pytest

from tests.facts.common import brand_kpi, last_quarter_private_share, runs, window_ratio

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
    assert 1.02 <= brand_kpi(on, "gmv_store") / brand_kpi(off, "gmv_store") <= 1.25


@pytest.mark.parametrize("seed", SEEDS)
def test_brand_a_private_roi_below_public_each_seed(seed):
    r = [runs("brand_a", seed)[-1]]
    assert brand_kpi(r, "roi_private") < brand_kpi(r, "roi_public")
    assert brand_kpi(r, "private_share") < 0.06


@pytest.mark.parametrize("seed", SEEDS)
def test_coffee_private_share_rises_each_seed(seed):
    r = [runs("coffee_miniprogram", seed)[-1]]
    assert window_ratio(r, "gmv_private", "gmv_total", 640, 730) >= 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_hunters_take_most_rewards_each_seed(seed):
    r = [runs("fission_hunters", seed)[-1]]
    assert brand_kpi(r, "hunter_reward_share") > 0.4


def test_market_penetration_climbs_on_most_seeds():
    """docs/FACTS.md 'market path': the market's last-quarter private share is at least 0.1 on
    five of the six seeds, and 0.15 on average. Not on every seed: imitation is a random
    process, and a private shop that pays on a habit pays late: on seed 3 (one of seeds 1-12)
    the first adopter drops private operations at its review on day 270, while its private
    sales are still growing, the two brands that copied it drop them too, and the market stays
    public."""
    shares = [last_quarter_private_share(runs("adaptive_market", seed)[-1]) for seed in SEEDS]
    assert sum(share >= 0.1 for share in shares) >= 5
    assert sum(shares) / len(shares) >= 0.15
