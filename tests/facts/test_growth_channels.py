"""Stylised facts about owned channels that grow sales: the coffee mini-program shop,
small-B reach, employee distributors, and tiered fission with coupon hunters (domain brief,
mechanisms 5, 6, 10, 11, 12; docs/FACTS.md)."""

from __future__ import annotations

from tests.facts.common import (
    brand_kpi,
    effects,
    kpi,
    last_quarter_private_share,
    paired,
    runs,
    twin_runs,
    window_ratio,
)


def test_coffee_mini_program_private_share_heads_to_70_percent_on_the_ordering_habit():
    """docs/FACTS.md 'coffee': high frequency, mini-program as the main shop: the private
    share of GMV rises through the run by more than 10 points and is 0.55-0.8 in the last
    quarter. It is earned by the ordering habit a weekly buyer keeps, not by a category
    constant (coffee's private_fit is 0): against the same brand without the habit
    (habit_weight 0, same seeds) the last quarter's private share is at least 20 points
    lower on every seed (2 seeds)."""
    results = runs("coffee_miniprogram", 2)
    first = window_ratio(results, "gmv_private", "gmv_total", 0, 90)
    last = window_ratio(results, "gmv_private", "gmv_total", 640, 730)
    assert last > first + 0.1
    assert 0.55 <= last <= 0.8
    assert results[0].scenario.categories["coffee"].private_fit == 0.0
    no_habit = runs("coffee_miniprogram", 2, population__habit_weight=0.0)
    assert min(paired(results, no_habit, last_quarter_private_share)) >= 0.2


def test_coffee_habit_needs_frequent_purchases():
    """docs/FACTS.md 'coffee': frequency decides. The same brand with coffee bought 4 times
    a year instead of 40 (the habit fades between orders) ends with a private share at least
    20 points lower (2 seeds, same seeds)."""
    results = runs("coffee_miniprogram", 2)
    rare = runs("coffee_miniprogram", 2, categories__coffee__purchases_per_year=4.0)
    assert min(paired(results, rare, last_quarter_private_share)) >= 0.2


def test_small_b_reach_per_node_follows_the_circle_net_of_overlap():
    """docs/FACTS.md 'small-B reach' (rests on the input koc_circle = 100): each node reaches
    80-100% of its circle in distinct consumers (some circles overlap); with circles four
    times as large, overlap cuts reach per node to well below four times as much (under
    3.5x). The nodes bring new customers: against the twin without nodes (`no_nodes`, same
    seeds) over half as many again on every seed (2 seeds)."""
    on = runs("fmcg_small_b", 2)
    circle = on[0].scenario.brands["brand"].strategy.koc_circle
    per_node = brand_kpi(on, "koc_reach_per_node")
    assert 0.8 * circle <= per_node <= circle
    wide = runs("fmcg_small_b", 2, brands__brand__strategy__koc_circle=4 * circle)
    assert brand_kpi(wide, "koc_reach_per_node") < 3.5 * per_node
    gains = effects("fmcg_small_b", "no_nodes", 2)
    twins = twin_runs("fmcg_small_b", "no_nodes", 2)
    for gain, t in zip(gains, twins, strict=True):
        assert gain["new_customers"] > 0.5 * kpi(t, "new_customers")


def test_employee_distributors_reach_their_circles_and_sell():
    """docs/FACTS.md 'employee distributors' (reach rests on the input employee_circle =
    30): each employee reaches 65-100% of the circle in distinct people, employee links
    carry at least 10% of GMV, and commission-only private ROI (an attribution) is above 1
    (2 seeds)."""
    results = runs("employee_distributors", 2)
    circle = results[0].scenario.brands["retailer"].strategy.employee_circle
    assert 0.65 * circle <= brand_kpi(results, "koc_reach_per_node") <= circle
    assert window_ratio(results, "gmv_koc", "gmv_total", 0, 365) >= 0.10
    assert brand_kpi(results, "roi_private") > 1.0


def test_fission_rewards_are_harvested_by_coupon_hunters():
    """docs/FACTS.md 'coupon hunters': tiered fission with 8% coupon hunters: hunters take
    over half of the rewards, fake accounts are over 15% of new 'members', and against the
    same programme without hunters (same seeds) the private CAC is over 30% higher (2
    seeds)."""
    with_hunters = runs("fission_hunters", 2)
    assert brand_kpi(with_hunters, "hunter_reward_share") > 0.5
    assert brand_kpi(with_hunters, "fake_member_share") > 0.15
    clean = runs("fission_hunters", 2, population__hunter_share=0.0)
    assert brand_kpi(clean, "fake_members") == 0
    assert brand_kpi(with_hunters, "cac_private") > 1.3 * brand_kpi(clean, "cac_private")
