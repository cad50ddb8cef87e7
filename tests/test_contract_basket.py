"""The engine contract for order values and baskets (issue 12, item 5): with order values
spread across consumers (`order_value_cv`) and from order to order (`order_value_cv_order`)
and cross-sell in the private shop (`cross_sell`), the same order leaves the same state,
the same ledger entries and the same Generator state in both engines.

The set-up draw of each consumer's mean order value comes from one stream in both engines;
an order's own value is drawn from its own stream (`Phase.ORDER_VALUE`), which the fast
engine loads into the day's Generator and then leaves: the contract's comparison of the
Generator's state checks that the interrupted stream resumes where it stood.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from sim import rules
from sim.fast.events import Event
from sim.streams import Phase, RunStreams, order_sub
from sim.vocab import Channel, MemberChannel, Prompt, Source, State
from tests.contract.adapter import Pair
from tests.contract.scenario import (
    CARE,
    GUIDED,
    QR_SHOP,
    QUOTA_ASSIST,
    TODAY,
    contract_scenario,
)
from tests.contract.state import Holding, Member, Person, assert_same, customer, member

SEEDS = (0, 1, 2)
SPREAD = {
    "categories.care.order_value_cv": 0.6,
    "categories.care.order_value_cv_order": 0.4,
    "categories.snacks.order_value_cv": 0.3,
}
CROSS_SELL = {"cross_sell": 0.5}


def basket_pair(spread: dict | None = None) -> Pair:
    """Both engines on the contract's market with order values spread (`SPREAD`, or the
    given keys) and cross-sell in every care brand's private shop."""
    sc = contract_scenario(guided=CROSS_SELL, quota_assist=CROSS_SELL, qr_shop=CROSS_SELL)
    return Pair(sc.changed(SPREAD if spread is None else spread))


def check(person: Person, event: Event, b: int, seed: int, spread=None, **kw) -> Pair:
    """Consumer 0 in state `person`, one event, then the contract."""
    pair = basket_pair(spread)
    pair.put(0, person)
    answers = pair.apply(event, 0, b, seed, **kw)
    assert answers[0] == answers[1], f"answers differ: {answers}"
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, f"{event.name} b={b} seed={seed} {kw}")
    return pair


def test_mean_order_values_are_drawn_alike():
    """Each consumer's mean order value per category: the same Gamma draws in both engines
    (mean 1 around the price), and none where the cv is 0 (the fast engine keeps no table
    when no category spreads order values)."""
    ref, fast = basket_pair().order_value_means()
    assert ref.shape == fast.shape
    assert np.array_equal(ref, fast)
    assert np.all(ref > 0) and np.unique(ref[:, 0]).size == ref.shape[0]
    ref, fast = basket_pair({}).order_value_means()
    assert np.all(ref == 1.0) and fast.size == 0


MEMBERSHIPS = {
    "none": None,
    "shop": Member(channel=MemberChannel.MINI_PROGRAM),
    "guide": Member(channel=MemberChannel.GUIDE, guide=0, engagement=0.6),
}


@pytest.mark.parametrize("membership", MEMBERSHIPS)
@pytest.mark.parametrize("channel", [Channel.PLATFORM, Channel.PRIVATE, Channel.STORE])
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_order_value_and_basket(b, channel, membership):
    """An order of each channel and prompt, by a member or not: its list value (the
    consumer's mean, the basket cross-sell adds to private-shop and pushed orders, the
    order's own draw), the paid value, cost of goods, discounts and commissions scaled with
    it, the spend and cohort value it adds, and the Generator the phase resumes."""
    m = MEMBERSHIPS[membership]
    if m is not None and m.guide is not None and b == QR_SHOP:
        pytest.skip("no guide")
    holding = customer(purchases=2, spend=250.0, cohort_day=2, dropout=0.3)
    if m is not None:
        holding = replace(holding, state=State.MEMBER, member=m)
    for prompt, seed in zip(Prompt, itertools.cycle(SEEDS), strict=False):
        check(
            Person(holdings={b: holding}),
            Event.PURCHASE,
            b,
            seed,
            channel=channel,
            prompt=prompt,
            share=0.9,
        )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_need_and_push_with_order_values(b, seed):
    """A need (the logit over the care brands' channels, then the order at its value) and a
    pushed purchase (a guide's message: the channel by logit, the basket of a push)."""
    holdings = {
        GUIDED: member(spend=150.0, channel=MemberChannel.GUIDE, guide=0, engagement=0.7),
        QUOTA_ASSIST: member(spend=400.0, channel=MemberChannel.GROUP),
        QR_SHOP: Holding(state=State.AWARE, source=Source.STORE),
    }
    check(Person(alpha=1.2, holdings=holdings), Event.ON_NEED, b, seed, cat=CARE)
    check(Person(alpha=1.2, holdings=holdings), Event.BUY_FROM, b, seed, prompt=Prompt.GUIDE)


def test_two_orders_on_one_day_draw_two_values():
    """Two orders of one consumer and brand on one day come from two streams (the orders so
    far are part of the sub-key, `order_sub`): the day's GMV is the price times the
    consumer's mean times the two draws, alike in both engines."""
    pair = basket_pair()
    pair.put(0, Person(holdings={GUIDED: customer(purchases=1)}))
    for seed in (0, 1):
        pair.apply(Event.PURCHASE, 0, GUIDED, seed, channel=Channel.PLATFORM, prompt=0, share=1.0)
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, "two orders")
    streams = RunStreams(0)
    shape = rules.order_value_shape(SPREAD["categories.care.order_value_cv_order"])
    draws = [
        streams.daily(Phase.ORDER_VALUE, TODAY, int(order_sub(0, GUIDED, n))).gamma(
            shape, 1.0 / shape
        )
        for n in (1, 2)
    ]
    assert draws[0] != draws[1]
    expected = 200.0 * pair.ref.order_value_mean[0, CARE] * sum(draws)
    for gmv in pair.ledger_slot("gmv_total", GUIDED):
        assert gmv == pytest.approx(expected, rel=1e-12)
