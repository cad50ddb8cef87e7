"""Stylised facts about several public platforms: a content feed's discovery and a
platform's ban on diverting package cards, each measured against a twin of the shipped
`douyin_fission` scenario on common random numbers (docs/FACTS.md; docs/ODD.md 7.22)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.effects import t_half_width
from tests.facts.common import paired, runs, twin_runs

SEEDS = 4


def interval(diffs: list[float]) -> tuple[float, float, float]:
    """Mean paired difference and its 95% t-interval (low, mean, high)."""
    d = np.asarray(diffs, dtype=float)
    half = float(t_half_width(pd.Series([d.std(ddof=1)]), pd.Series([d.size]))[0])
    return d.mean() - half, d.mean(), d.mean() + half


def total(column: str, brand: str | None = None):
    """A measure of a run: a ledger column summed over the run (one brand, or the market)."""

    def measure(result) -> float:
        ledger = result.ledger
        rows = ledger if brand is None else ledger[ledger["brand"] == brand]
        return float(rows[column].sum())

    return measure


def test_douyin_feed_discovery_adds_organic_customers_for_every_brand():
    """docs/FACTS.md 'feed discovery': Douyin's content feed (organic awareness and word of
    mouth among its shoppers times `feed_boost` = 3, an input) against the same market with
    Douyin a search platform (twin `douyin_as_search`, same seeds): the market gains organic
    new customers (95% interval above 0), and so does the rival that advertises only on
    Tmall and JD — discovery is the platform's, not the advertiser's; the gain is word of
    mouth, not ads (ad-acquired new customers do not rise). 4 seeds."""
    results = runs("douyin_fission", SEEDS)
    twins = twin_runs("douyin_fission", "douyin_as_search", SEEDS)
    low, _, _ = interval(paired(results, twins, total("new_customers_organic")))
    assert low > 0
    rival_low, _, _ = interval(paired(results, twins, total("new_customers_organic", "rival")))
    assert rival_low > 0
    _, ads, _ = interval(paired(results, twins, total("new_customers_ads")))
    assert ads <= 0


def test_douyin_ban_blocks_cards_and_costs_card_joins():
    """docs/FACTS.md 'ban risk': Douyin blocks each package card in its parcels with
    probability `ban_risk` = 0.5 (an input). Against the twin without ban risk (`no_ban`,
    same seeds) the brand's cards bring fewer members (95% interval of the joins via
    package cards below 0), blocked cards are counted only where there is a ban, and the
    joins lost are fewer than the cards blocked (a card invites; not every invitee joins).
    4 seeds."""
    results = runs("douyin_fission", SEEDS)
    twins = twin_runs("douyin_fission", "no_ban", SEEDS)
    joins = paired(results, twins, total("new_members_package_card", "brand"))
    _, lost, high = interval(joins)
    assert high < 0
    blocked = [total("cards_blocked", "brand")(r) for r in results]
    assert min(blocked) > 0
    assert all(total("cards_blocked")(t) == 0 for t in twins)
    assert -lost < np.mean(blocked)


def test_moving_ads_to_douyin_buys_more_reach_at_a_higher_take():
    """docs/FACTS.md 'ads on Douyin': the brand's ads mostly on Douyin (cheaper traffic,
    `base_cpm` 25 against Tmall's 40, both inputs) against the same budget all on Tmall
    (twin `ads_on_tmall`, same seeds) buy more impressions and more ad-acquired customers
    (95% interval above 0), but Douyin's shoppers pay its higher take rate (8% against 5%,
    inputs: commission up, interval above 0) and its ban blocks more of the brand's cards.
    Whether it adds GMV within the year is not asserted: it is not distinguishable from 0.
    4 seeds."""
    results = runs("douyin_fission", SEEDS)
    twins = twin_runs("douyin_fission", "ads_on_tmall", SEEDS)
    assert min(paired(results, twins, total("impressions", "brand"))) > 0
    low, _, _ = interval(paired(results, twins, total("new_customers_ads", "brand")))
    assert low > 0
    low, _, _ = interval(paired(results, twins, total("cost_platform_commission", "brand")))
    assert low > 0
    assert min(paired(results, twins, total("cards_blocked", "brand"))) > 0
