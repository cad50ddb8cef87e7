"""The behavioural rules: known values from their sources, and scalar/array agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import rules
from sim.vocab import Channel, DistributorKind, MemberChannel, Source, Touch

unit = st.floats(0.0, 1.0)


def test_hill_is_half_at_k_and_saturates():
    assert rules.hill(2.0, 2.0, 1.5) == pytest.approx(0.5)
    assert rules.hill(0.0, 2.0, 1.5) == 0.0
    assert rules.hill(1e9, 2.0, 1.5) == pytest.approx(1.0)


def test_geometric_adstock_carries_over():
    a = 0.0
    for x in (100.0, 0.0, 0.0):
        a = rules.adstock(a, x, 0.5)
    assert a == pytest.approx(25.0)


def test_traffic_cpm_drifts_up_and_rises_with_demand():
    base = rules.traffic_cpm(40.0, 0.25, 0, 1000.0, 5000.0, 0.3)
    assert base == pytest.approx(40.0)  # below reference demand: floored at base
    assert rules.traffic_cpm(40.0, 0.25, 365, 1000.0, 5000.0, 0.3) == pytest.approx(50.0)
    assert rules.traffic_cpm(40.0, 0.0, 0, 10000.0, 5000.0, 1.0) == pytest.approx(80.0)


def test_bass_cdf_known_values():
    p, q = 0.03, 0.38
    assert rules.bass_cdf(0.0, p, q) == pytest.approx(0.0)
    assert rules.bass_cdf(1e3, p, q) == pytest.approx(1.0)
    # the peak of adoption (inflection) is at t* = ln(q/p)/(p+q), where F = (q-p)/(2q)
    t_star = math.log(q / p) / (p + q)
    assert rules.bass_cdf(t_star, p, q) == pytest.approx((q - p) / (2 * q))


def test_retention_clv_closed_form():
    assert rules.retention_clv(100.0, 0.8, 0.0) == pytest.approx(400.0)
    assert rules.retention_clv(100.0, 0.8, 0.1) == pytest.approx(100 * 0.8 / 0.3)


def test_fermi_rule():
    assert rules.fermi_copy_probability(1.0, 1.0, 0.2) == pytest.approx(0.5)
    assert rules.fermi_copy_probability(2.0, 1.0, 0.2) > 0.99
    assert rules.fermi_copy_probability(1.0, 2.0, 0.2) < 0.01


def test_logit_sums_to_one_and_orders_by_utility():
    p = rules.logit_probabilities(np.array([1.0, 0.0, -1.0]), outside=0.0)
    assert p.sum() == pytest.approx(1.0)
    assert p[0] > p[1] > p[2]
    assert p[1] == pytest.approx(p[3])


def test_draw_index_inverts_the_cdf():
    probs = [0.2, 0.5, 0.3]
    assert rules.draw_index(probs, 0.0) == 0
    assert rules.draw_index(probs, 0.19) == 0
    assert rules.draw_index(probs, 0.2) == 1
    assert rules.draw_index(probs, 0.69) == 1
    assert rules.draw_index(probs, 0.7) == 2
    assert rules.draw_index(probs, 0.9999999) == 2


def test_referral_tiers():
    tiers = ([1, 10], [30.0, 300.0])  # referral counts needed, rewards
    assert rules.next_referral_reward(0, *tiers) == 30.0
    assert rules.next_referral_reward(1, *tiers) == 300.0
    assert rules.next_referral_reward(10, *tiers) == 0.0
    assert rules.reward_due(1, *tiers) == 30.0
    assert rules.reward_due(5, *tiers) == 0.0
    assert rules.reward_due(10, *tiers) == 300.0


def test_tier_discount_picks_highest_reached_tier():
    assert rules.tier_discount(0.0, [600.0, 1500.0], [0.03, 0.06]) == 0.0
    assert rules.tier_discount(600.0, [600.0, 1500.0], [0.03, 0.06]) == pytest.approx(0.03)
    assert rules.tier_discount(2000.0, [600.0, 1500.0], [0.03, 0.06]) == pytest.approx(0.06)
    assert rules.tier_discount(2000.0, [], []) == 0.0


def test_pressured_join_only_adds_joiners():
    assert rules.pressured_join_probability(0.3, 0.0) == pytest.approx(0.3)
    assert rules.pressured_join_probability(0.3, 0.5) == pytest.approx(0.65)


@given(e=unit, g=unit)
def test_engagement_stays_in_unit_interval(e, g):
    out = rules.engagement_after_touch(e, g)
    assert e - 1e-12 <= out <= 1.0 + 1e-12


@given(e=unit, latent=unit, base=unit)
def test_probabilities_are_capped(e, latent, base):
    assert 0.0 <= rules.selling_conversion(base, e, latent, 5.0, 1.0, 3.0) <= 1.0
    assert 0.0 <= rules.referral_probability(base, e, 10.0, 5.0) <= 1.0
    assert 0.0 <= rules.hunter_fake_probability(base, 50.0) <= 1.0


nonneg = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)


@given(rate=nonneg, e=nonneg, latent=unit, sku=nonneg, effect=nonneg, skill=nonneg)
def test_conversions_are_highest_at_the_highest_latent_need(rate, e, latent, sku, effect, skill):
    """The fast engine compares a draw with the probability at latent need 1 first and
    computes the latent need only below it (`kernels.need_converts`, `receive_touch`): exact
    only while the float result never exceeds its value at latent need 1."""
    assert rules.conversion_probability(rate, latent) <= rules.conversion_probability(rate, 1.0)
    top = rules.selling_conversion(rate, e, 1.0, sku, effect, skill)
    assert rules.selling_conversion(rate, e, latent, sku, effect, skill) <= top


@given(st.lists(st.tuples(unit, unit, unit), min_size=1, max_size=20))
def test_rules_agree_on_scalars_and_arrays(rows):
    e, latent, effect = (np.array(c) for c in zip(*rows, strict=True))
    arr = rules.selling_conversion(0.2, e, latent, 1.2, effect, 1.0)
    for k, (ek, lk, fk) in enumerate(rows):
        assert arr[k] == pytest.approx(rules.selling_conversion(0.2, ek, lk, 1.2, fk, 1.0))
    arr = rules.dropout_probability(latent, e, 0.6)
    for k, (ek, lk, _) in enumerate(rows):
        assert arr[k] == pytest.approx(rules.dropout_probability(lk, ek, 0.6))
    arr = rules.decay(e, 0.1, 3)
    for k, (ek, _, _) in enumerate(rows):
        assert arr[k] == pytest.approx(rules.decay(ek, 0.1, 3))


# the fast engine compiles these very functions (sim.fast.jit): same values as plain Python
_COMPILED_CASES = [
    ("traffic_cpm", (40.0, 0.25, 100, 8000.0, 5000.0, 0.5)),
    ("ad_awareness_hazard", (2500.0, 1000, 0.4, 0.008, 1.0, 1.5)),
    ("combine_hazards", (0.1, 0.25)),
    ("daily_need_probability", (0.02,)),
    ("latent_need_probability", (0.02, 30.0)),
    ("channel_utility", (0.9, 1.2, 0.5, 0.7, 0.3, 0.5, -0.2, 0.1)),
    ("effective_price_share", (0.1, 0.05, 0.03)),
    ("join_probability", (0.05, 0.08, 0.5, 1.0, 3.0, 1.5, 1.0)),
    ("pressured_join_probability", (0.3, 0.5)),
    ("engagement_after_touch", (0.2, 0.06)),
    ("decay", (0.8, 0.1, 7)),
    ("harvest_feeling", (0.1, 1.0, 30.0)),
    ("selling_conversion", (0.15, 0.6, 0.4, 1.2, 0.5, 1.1)),
    ("dropout_probability", (0.15, 0.5, 0.6)),
    ("referral_probability", (0.004, 0.7, 0.3, 2.0)),
    ("hunter_fake_probability", (0.05, 0.3)),
    ("impressions_bought", (500.0, 23.0)),
    ("posting_probability", (3.0,)),
    ("conversion_probability", (0.08, 0.35)),
    ("guide_invite_probability", (0.4, True, 1.7)),
    ("join_discount", (False, 0.1, 0.05)),
    ("hunter_join_probability", (0.0, 2)),
    ("joiner_engagement", (0.3, True, 0.4)),
    ("fatigue_tolerance", (2.5, True, 0.6)),
    ("touch_engagement_gain", (1, 0.7, 1.1, 0.05, 0.08, 0.6)),
    ("broadcast_touch_effect", (1, 0.5, 0.3)),
    ("distributor_commission_rate", (2, 0.1, 0.15)),
]


@pytest.mark.parametrize(("name", "args"), _COMPILED_CASES, ids=[c[0] for c in _COMPILED_CASES])
def test_compiled_rules_equal_python(name, args):
    from sim.fast import jit

    assert getattr(jit, name)(*args) == pytest.approx(getattr(rules, name)(*args), rel=1e-12)


def test_compiled_choice_rules_equal_python():
    from sim.fast import jit

    utils = [1.0, 0.4, -0.3]
    out = np.zeros(4)
    jit.logit_shares(np.array(utils), 0.8, out)
    assert out.tolist() == pytest.approx(rules.logit_probabilities(utils, 0.8), rel=1e-12)
    for u in (0.0, 0.3, 0.9, 0.999):
        assert jit.draw_index(out, u) == rules.draw_index(out.tolist(), u)
    needed, rewards = np.array([1, 10]), np.array([30.0, 300.0])
    for count in (0, 1, 5, 10, 11):
        assert jit.next_referral_reward(count, needed, rewards) == rules.next_referral_reward(
            count, [1, 10], [30.0, 300.0]
        )
        assert jit.reward_due(count, needed, rewards) == rules.reward_due(
            count, [1, 10], [30.0, 300.0]
        )
    spend = np.array([600.0, 1500.0])
    for s in (0.0, 600.0, 1000.0, 2000.0):
        assert jit.tier_discount(s, spend, np.array([0.03, 0.06])) == rules.tier_discount(
            s, [600.0, 1500.0], [0.03, 0.06]
        )


# --------------------------------------------------------------------------- decision rules


def test_impressions_are_a_thousand_per_cpm_of_spend():
    assert rules.impressions_bought(500.0, 20.0) == 25000.0
    assert rules.impressions_bought(0.0, 20.0) == 0.0


def test_posting_and_conversion():
    assert rules.posting_probability(7.0) == 1.0
    assert rules.posting_probability(3.5) == 0.5
    assert rules.conversion_probability(0.2, 0.5) == 0.1


def test_guide_invite_probability_quota_and_cap():
    assert rules.guide_invite_probability(0.3, False, 2.0) == 0.3
    assert rules.guide_invite_probability(0.3, True, 2.0) == 0.6
    assert rules.guide_invite_probability(0.6, True, 2.0) == 1.0


def test_join_decision_rules():
    assert rules.join_discount(True, 0.1, 0.05) == 0.1  # separate: the private shop's
    assert rules.join_discount(False, 0.1, 0.05) == 0.05  # assist: the member coupon
    assert rules.hunter_join_probability(0.0, 0) == 0.0
    assert rules.hunter_join_probability(10.0, 0) == 1.0
    assert rules.hunter_join_probability(0.0, 1) == 1.0
    assert rules.joiner_engagement(0.3, False, 0.5) == 0.3
    assert rules.joiner_engagement(0.3, True, 0.5) == 0.15


def test_touch_rules_by_kind():
    fatigue = (0.1, 0.2, 0.5)
    assert [rules.touch_fatigue(k, 0.5, fatigue) for k in Touch] == [0.05, 0.1, 0.25]
    gains = [rules.touch_engagement_gain(k, 0.5, 2.0, 0.1, 0.3, 0.4) for k in Touch]
    assert gains == [0.1 * 0.5 * 2.0, 0.3 * 0.4 * 0.5 * 2.0, 0.0]
    # a service touch is worth as much as the category needs service
    assert rules.touch_engagement_gain(Touch.SERVICE, 1.0, 1.0, 0.1, 0.3, 0.0) == 0.0


def test_mute_and_harvest_exit():
    assert rules.fatigue_tolerance(2.0, False, 0.5) == 2.0
    assert rules.fatigue_tolerance(2.0, True, 0.5) == 1.0
    assert not rules.mutes(1.0, 1.0) and rules.mutes(1.01, 1.0)
    assert not rules.feels_harvested(0.5, 0.5) and rules.feels_harvested(0.51, 0.5)


def test_broadcast_effect_by_member_channel():
    effects = [rules.broadcast_touch_effect(c, 0.5, 0.3) for c in MemberChannel]
    assert effects == [0.3, 0.5, 0.3, 0.3]


def test_order_rules():
    for channel in Channel:
        for member, ops, assist, coupon in [(True, True, True, 0.1)]:
            applies = rules.member_coupon_applies(member, ops, channel, assist, coupon)
            assert applies is (channel == Channel.PLATFORM)
    assert not rules.member_coupon_applies(False, True, Channel.PLATFORM, True, 0.1)
    assert not rules.member_coupon_applies(True, False, Channel.PLATFORM, True, 0.1)
    assert not rules.member_coupon_applies(True, True, Channel.PLATFORM, False, 0.1)
    assert not rules.member_coupon_applies(True, True, Channel.PLATFORM, True, 0.0)
    due = [rules.guide_commission_due(True, c) for c in Channel]
    assert due == [False, True, True]
    assert not any(rules.guide_commission_due(False, c) for c in Channel)


def test_distributor_rules():
    rates = [rules.distributor_commission_rate(k, 0.1, 0.2) for k in DistributorKind]
    assert rates == [0.1, 0.1, 0.2]
    sources = [rules.distributor_source(k) for k in DistributorKind]
    assert sources == [Source.KOC, Source.DISTRIBUTOR, Source.DISTRIBUTOR]


def test_invitation_after_purchase():
    invite = rules.invitation_after_purchase
    assert invite(Channel.PLATFORM, False, True) == Source.PACKAGE_CARD
    assert invite(Channel.STORE, False, True) == Source.STORE
    assert invite(Channel.PRIVATE, False, True) == -1
    for channel in Channel:
        assert invite(channel, True, True) == -1  # members are not invited again
        assert invite(channel, False, False) == -1  # no private operations: no invitation


def test_compiled_decision_rules_equal_python():
    from sim.fast import jit

    for channel in Channel:
        for member, ops in ((False, True), (True, True), (False, False)):
            assert jit.invitation_after_purchase(
                np.int64(channel), member, ops
            ) == rules.invitation_after_purchase(channel, member, ops)
        assert jit.guide_commission_due(True, np.int64(channel)) == rules.guide_commission_due(
            True, channel
        )
        assert jit.member_coupon_applies(
            True, True, np.int64(channel), True, 0.1
        ) == rules.member_coupon_applies(True, True, channel, True, 0.1)
    for kind in DistributorKind:
        assert jit.distributor_source(np.int64(kind)) == rules.distributor_source(kind)
    fatigue = np.array([0.1, 0.2, 0.5])
    for kind in Touch:
        assert jit.touch_fatigue(np.int64(kind), 0.7, fatigue) == rules.touch_fatigue(
            kind, 0.7, tuple(fatigue)
        )
    assert jit.mutes(1.5, 1.0) and not jit.feels_harvested(0.2, 0.5)


def test_option_terms():
    """The utility terms of an option (ODD 7.6): member-only coupon, shop, service."""
    assert rules.member_coupon_share(True, True, 0.15) == 0.15
    assert rules.member_coupon_share(True, False, 0.15) == 0.0  # separate policy: no coupon
    assert rules.member_coupon_share(False, True, 0.15) == 0.0  # not a member
    assert rules.private_shop_offered(True, True) and not rules.private_shop_offered(True, False)
    assert not rules.private_shop_offered(False, True)
    assert rules.member_service_value(True, 0.5, 0.8) == pytest.approx(0.4)
    assert rules.member_service_value(False, 0.5, 0.8) == 0.0
    assert rules.store_service_value(0.3, 0.8, 0.4) == pytest.approx(0.3 * 0.8 + 0.4)
    assert rules.platform_protection_value(2.0, 0.5, 0.3) == pytest.approx(0.3)


def test_trial_and_present_value():
    assert rules.trial_probability(0.1, False, 0.5) == 0.1
    assert rules.trial_probability(0.1, True, 0.5) == pytest.approx(1 - 0.9 * 0.5)
    assert rules.present_value(100.0, 0.99, 0) == 100.0
    assert rules.present_value(100.0, 0.99, 2) == pytest.approx(100.0 * 0.99**2)


def test_compiled_option_rules_equal_python():
    from sim.fast import jit

    for member in (False, True):
        for flag in (False, True):
            assert jit.member_coupon_share(member, flag, 0.15) == rules.member_coupon_share(
                member, flag, 0.15
            )
            assert jit.private_shop_offered(member, flag) == rules.private_shop_offered(
                member, flag
            )
            assert jit.trial_probability(0.1, flag, 0.5) == rules.trial_probability(0.1, flag, 0.5)
        assert jit.member_service_value(member, 0.5, 0.8) == rules.member_service_value(
            member, 0.5, 0.8
        )
    # an integer power: Numba multiplies by squaring, Python calls pow(); they may differ in
    # the last bit, which the engine contract's float tolerance absorbs
    assert jit.present_value(100.0, 0.99, np.int64(37)) == pytest.approx(
        rules.present_value(100.0, 0.99, 37), rel=1e-14
    )
