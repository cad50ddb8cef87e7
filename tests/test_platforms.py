"""Several public platforms: the rules (home platform, discovery, blended CPM, card ban),
the ban draw's stream, the scenario's platform tables and their checks, and the
mechanism's effect on a small market in both engines."""

from __future__ import annotations

import numpy as np
import pytest

from sim import rules
from sim.model import MarketModel
from sim.params import Scenario, ad_split, platform_terms
from sim.runner import run
from sim.streams import Phase, RunStreams, card_sub, order_uniform

TWO = {
    "tmall": {"shoppers": 0.6, "take_rate": 0.05},
    "douyin": {"shoppers": 0.4, "discovery": "feed", "feed_boost": 4.0, "ban_risk": 0.5},
}


def market(**changes) -> Scenario:
    """A small market on two platforms (800 consumers, 120 days)."""
    sc = Scenario.model_validate(
        {
            "run": {"consumers": 800, "days": 120},
            "platforms": TWO,
            "brands": {"brand": {"strategy": {"package_card_rate": 1.0}}},
        }
    )
    return sc.changed(changes) if changes else sc


# ---------------------------------------------------------------- rules
def test_home_platforms_follow_the_shopper_shares():
    u = np.random.default_rng(0).random(200_000)
    homes = rules.home_platforms(u, np.array([0.5, 0.2, 0.3]))
    shares = np.bincount(homes, minlength=3) / u.size
    assert np.allclose(shares, [0.5, 0.2, 0.3], atol=0.005)
    # a share sum rounding short of 1 never gives a platform that is not there
    assert rules.home_platforms(np.array([0.99999]), np.array([0.5, 0.49999])).tolist() == [1]


def test_discovery_multiplies_only_on_a_feed():
    assert rules.discovery_multiplier(True, 3.0) == 3.0
    assert rules.discovery_multiplier(False, 3.0) == 1.0


def test_blended_cpm_weights_each_platform_by_the_budget_split():
    cpms = np.array([40.0, 20.0])
    assert rules.blended_cpm(cpms, np.array([0.25, 0.75])) == pytest.approx(25.0)
    assert rules.blended_cpm(np.array([33.3]), np.array([1.0])) == 33.3  # one platform: exact
    assert rules.blended_cpm(cpms, np.array([0.0, 0.0])) == 40.0


def test_card_blocked_with_the_ban_risk():
    assert rules.card_blocked(0.3, 0.29) and not rules.card_blocked(0.3, 0.3)
    assert not rules.card_blocked(0.0, 0.0)


def test_order_uniform_is_uniform_and_keyed_by_day_and_order():
    key = RunStreams(5).keys[Phase.PLATFORM_BAN]
    out = np.zeros(4, dtype=np.uint64)
    u = np.array([order_uniform(key, 3, np.uint64(card_sub(i, 1, 1)), out) for i in range(20000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    assert abs((u < 0.3).mean() - 0.3) < 0.01
    again = order_uniform(key, 3, np.uint64(card_sub(0, 1, 1)), out)
    assert again == u[0]
    assert order_uniform(key, 4, np.uint64(card_sub(0, 1, 1)), out) != u[0]
    assert card_sub(0, 1, 2) != card_sub(0, 1, 1) != card_sub(0, 2, 1)


# ---------------------------------------------------------------- scenario tables
def test_no_platform_tables_is_the_one_platform():
    sc = Scenario()
    (only,) = platform_terms(sc)
    assert only.take_rate == sc.platform.take_rate and only.shoppers == 1.0
    assert ad_split(sc, sc.brands["brand"].strategy) == [1.0]


def test_ad_split_given_or_by_shoppers():
    sc = market()
    assert ad_split(sc, sc.brands["brand"].strategy) == [0.6, 0.4]
    sc = market(**{"brands.brand.strategy.platform_ad_shares": {"douyin": 1.0}})
    assert ad_split(sc, sc.brands["brand"].strategy) == [0.0, 1.0]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"platforms.tmall.shoppers": 0.9}, "shoppers shares must sum to 1"),
        ({"brands.brand.strategy.platform_ad_shares": {"tmall": 0.5}}, "must sum to 1"),
        ({"brands.brand.strategy.platform_ad_shares": {"jd": 1.0}}, "unknown platform 'jd'"),
    ],
)
def test_bad_platform_tables_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        market(**changes)


def test_ad_shares_need_platform_tables():
    with pytest.raises(ValueError, match="needs \\[platforms\\]"):
        Scenario().changed({"brands.brand.strategy.platform_ad_shares": {"tmall": 1.0}})


# ---------------------------------------------------------------- the mechanism in a run
@pytest.mark.parametrize("engine", ["fast", "agents"])
def test_ban_blocks_cards_only_where_there_is_risk(engine):
    """Douyin blocks about half of its shoppers' cards; without ban risk none is blocked
    and, on the same seed, more consumers join through cards."""
    banned = run(market(), seed=2, engine=engine).ledger
    free = run(market(**{"platforms.douyin.ban_risk": 0.0}), seed=2, engine=engine).ledger
    assert banned["cards_blocked"].sum() > 0
    assert free["cards_blocked"].sum() == 0
    assert free["new_members_package_card"].sum() > banned["new_members_package_card"].sum()


def test_ads_on_one_platform_reach_only_its_shoppers():
    """All of the brand's ads on Douyin: the ads' customers are Douyin shoppers only (the
    home platform of each ad-aware consumer, read from the reference engine's state)."""
    sc = market(
        **{
            "brands.brand.strategy.platform_ad_shares": {"douyin": 1.0},
            "brands.brand.initial.aware": 0.0,
            "brands.brand.initial.customers": 0.0,
            "population.organic_awareness": 0.0,
            "population.wom_rate": 0.0,
        }
    )
    model = MarketModel(sc, 3)
    for _ in range(60):
        model.step()
    aware = np.flatnonzero(model.funnel[0] > 0)
    assert aware.size > 0
    assert (model.homes[aware] == 1).all()
