"""Stylised facts about owned channels that grow sales: the coffee mini-program shop,
small-B reach, employee distributors, and tiered fission with coupon hunters (domain brief,
mechanisms 5, 6, 10, 11, 12)."""

from __future__ import annotations

from tests.facts.common import brand_kpi, runs, window_ratio


def test_coffee_mini_program_private_share_heads_to_70_percent():
    """High frequency, mini-program as the main shop: the private share of GMV rises through
    the run by more than 10 points and is 0.55-0.8 in the last quarter (2 seeds)."""
    results = runs("coffee_miniprogram", 2)
    first = window_ratio(results, "gmv_private", "gmv_total", 0, 90)
    last = window_ratio(results, "gmv_private", "gmv_total", 640, 730)
    assert last > first + 0.1
    assert 0.55 <= last <= 0.8


def test_small_b_nodes_reach_about_100_consumers_each():
    """1,000 small-B nodes → ~100,000 reachable consumers: each node's posts reach 80-110
    distinct consumers net of overlap, and the nodes bring new customers (2 seeds)."""
    on = runs("fmcg_small_b", 2)
    assert 80 <= brand_kpi(on, "koc_reach_per_node") <= 110
    off = runs("fmcg_small_b", 1, brands__brand__strategy__koc_count=0)
    assert brand_kpi(on, "new_customers") > 1.5 * brand_kpi(off, "new_customers")


def test_employee_distributors_reach_their_circles_and_sell():
    """Everyone a distributor: each employee reaches most of a ~30-person circle (20-32
    distinct people), employee links carry at least 10% of GMV, and commission-only private
    ROI is above 1 (2 seeds)."""
    results = runs("employee_distributors", 2)
    assert 20 <= brand_kpi(results, "koc_reach_per_node") <= 32
    assert window_ratio(results, "gmv_koc", "gmv_total", 0, 365) >= 0.10
    assert brand_kpi(results, "roi_private") > 1.0


def test_fission_rewards_are_harvested_by_coupon_hunters():
    """Tiered fission with 8% coupon hunters: hunters take over half of the rewards, fake
    accounts are over 15% of new 'members', and the private CAC is well above the same
    programme without hunters (2 seeds)."""
    with_hunters = runs("fission_hunters", 2)
    assert brand_kpi(with_hunters, "hunter_reward_share") > 0.5
    assert brand_kpi(with_hunters, "fake_member_share") > 0.15
    clean = runs("fission_hunters", 2, population__hunter_share=0.0)
    assert brand_kpi(clean, "fake_members") == 0
    assert brand_kpi(with_hunters, "cac_private") > 1.3 * brand_kpi(clean, "cac_private")
