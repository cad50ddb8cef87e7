"""Organisation and channel conflict (ODD 7.18): the rules of KPI crediting, channel owners
and the private shop's guarantee, and their set-up draw."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, population, rules
from sim.streams import Purpose, RunStreams


@pytest.mark.parametrize(
    ("separate_kpi", "separate_shop", "expected"),
    [(True, True, 0.2), (False, True, 1.0), (True, False, 1.0), (False, False, 1.0)],
)
def test_public_team_diverts_less_only_when_it_loses_the_buyers(
    separate_kpi, separate_shop, expected
):
    """Only a separate private sales KPI with the brand's own shop costs the public team
    the buyers it diverts; shared credit and the assist policy restore full diversion."""
    assert rules.public_team_diversion(separate_kpi, separate_shop, 0.2) == expected
    assert rules.package_card_probability(0.3, separate_kpi, separate_shop, 0.2) == pytest.approx(
        0.3 * expected
    )


def test_shared_credit_leaves_the_package_card_rate_exactly():
    """Off (shared credit) the rate is the strategy's, bit for bit: no run changes."""
    for rate in (0.0, 0.1, 0.3, 1 / 3, 1.0):
        assert rules.package_card_probability(rate, False, True, 0.37) == rate


def test_withheld_customers_are_franchised_ones_not_handed_over():
    """u < f(1 - h): nobody without franchisees or with a full handover; the withheld set
    shrinks, nested, as the handover rises (one draw per consumer)."""
    u = np.random.default_rng(3).random(20_000)
    assert not rules.withheld_by_owner(u, 0.0, 0.0).any()
    assert not rules.withheld_by_owner(u, 0.8, 1.0).any()
    kept = rules.withheld_by_owner(u, 0.8, 0.0)
    assert kept.mean() == pytest.approx(0.8, abs=0.01)
    half = rules.withheld_by_owner(u, 0.8, 0.5)
    assert half.mean() == pytest.approx(0.4, abs=0.01)
    assert not (half & ~kept).any()


def test_store_invite_rate_is_zero_for_a_withheld_customer():
    assert rules.store_invite_rate(0.6, False) == 0.6
    assert rules.store_invite_rate(0.6, True) == 0.0


def test_private_guarantee_is_valued_like_buyer_protection():
    """trust_weight x trust x guarantee: a guarantee equal to the platform's protection
    is worth exactly what the protection is; none is worth nothing."""
    assert rules.private_guarantee_value(1.5, 0.7, 0.0) == 0.0
    assert rules.private_guarantee_value(1.5, 0.7, 1.0) == rules.platform_protection_value(
        1.5, 0.7, 1.0
    )
    assert rules.private_guarantee_value(1.0, 0.7, 2.0) == pytest.approx(1.4)


def test_channel_owners_draw_only_with_franchisees():
    """No draw without a franchise share (the stream is untouched), the brand's own stream
    with one: a share of about f(1 - h) of consumers is withheld."""
    sc = load_scenario(
        "beauty_guides", {"run.consumers": 4000, "brands.brand.franchise_share": 0.0}
    )
    streams = RunStreams(5)
    off = population.channel_owners(sc, list(sc.brands), 4000, streams)
    assert not off.any()
    fresh = RunStreams(5).setup(Purpose.CHANNEL_OWNERS, 0).random()
    assert streams.setup(Purpose.CHANNEL_OWNERS, 0).random() == fresh  # nothing drawn
    on_sc = sc.changed(
        {"brands.brand.franchise_share": 0.5, "brands.brand.franchise_handover": 0.2}
    )
    on = population.channel_owners(on_sc, list(on_sc.brands), 4000, RunStreams(5))
    assert on.mean() == pytest.approx(0.4, abs=0.03)
