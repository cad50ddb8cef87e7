"""The engine contract for private lifting public (ODD 7.21): points on orders, the review
chance an order carries, the day's reviews and the review stock, and the platform rating
and points in a consumer's choice. The same event on the same state with the same
Generator leaves the same state and ledger entries in both engines (tests/test_contract.py
says how states are put and compared)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.fast.events import Event
from sim.params import Scenario
from sim.vocab import Channel, MemberChannel, Prompt, Source, State
from tests.contract.adapter import Pair
from tests.contract.scenario import CARE, GUIDED, PUBLIC, QR_SHOP, QUOTA_ASSIST, contract_scenario
from tests.contract.state import Holding, Member, Person, assert_same, customer, member

LEVERS = {"review_points": 8.0, "points_rate": 0.03}
"""Both levers on, for the brands with private operations."""


def lifting_scenario(review_rate: float = 0.05, points_rate: float = 0.03) -> Scenario:
    """The contract's market with points for reviews and on orders, an unrewarded review
    rate and a rating that moves choice."""
    levers = {**LEVERS, "points_rate": points_rate}
    sc = contract_scenario(guided=levers, quota_assist=levers, qr_shop=levers)
    return sc.changed(
        {
            "population.review_rate": review_rate,
            "population.review_reward_sensitivity": 15.0,
            "platform.rating_weight": 0.8,
            "platform.rating_half_saturation": 0.5,
            "platform.review_decay": 0.02,
        }
    )


def contract(pair: Pair, consumers: list[int], what: str) -> None:
    ref, fast = pair.snapshots(consumers)
    assert_same(ref, fast, what)


MEMBERSHIPS = {
    "none": None,
    "group": Member(channel=MemberChannel.GROUP),
    "guide": Member(channel=MemberChannel.GUIDE, guide=0),
}


@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP, PUBLIC])
@pytest.mark.parametrize("membership", MEMBERSHIPS)
@pytest.mark.parametrize("first", [True, False], ids=["first", "repeat"])
@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.name.lower())
def test_order_books_points_and_counts_its_review_chance(channel, first, membership, b):
    """An order: a member's points booked (assigned to acquisition on a first order, to
    serving on a repeat), and a platform order counted under its review chance (rewarded
    member or other); other channels carry none."""
    m = MEMBERSHIPS[membership]
    if m is not None and (b == PUBLIC or (m.guide is not None and b == QR_SHOP)):
        pytest.skip("no members (public) or no guide (qr_shop)")
    if first:
        holding = Holding(state=State.AWARE, source=Source.KOC, dropout=0.0)
    else:
        holding = customer(purchases=2, spend=250.0, cohort_day=2, dropout=0.0)
    if m is not None:
        holding = replace(holding, state=State.MEMBER, member=m)
    pair = Pair(lifting_scenario())
    pair.put(0, Person(holdings={b: holding}))
    pair.apply(Event.PURCHASE, 0, b, 0, channel=channel, prompt=Prompt.NONE, share=0.9)
    contract(pair, [0], f"order {channel!r} {membership} b={b}")
    ref_points, fast_points = pair.ledger_slot("cost_points", b)
    member_of_ops = m is not None and b != PUBLIC
    assert (ref_points > 0) == member_of_ops
    assert ref_points == pytest.approx(fast_points)
    rewarded = member_of_ops and channel == Channel.PLATFORM
    expected = (int(rewarded), int(channel == Channel.PLATFORM and not rewarded))
    assert tuple(pair.ref.brands[b].review_orders) == expected


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("points_rate", [0.0, 0.3])
@pytest.mark.parametrize("stock", [0.0, 3.0, 40.0])
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_need_sees_the_rating_and_a_members_points(b, stock, points_rate, seed):
    """A need: the logit over the known brands' channels with each brand's platform
    rating (from its review stock) and a member's points (on every channel: platform,
    private shop, store) in its utilities. A large points rate makes a dropped term show
    in the choices."""
    holdings = {
        GUIDED: member(spend=150.0, channel=MemberChannel.GUIDE, guide=0, engagement=0.7),
        QUOTA_ASSIST: member(spend=400.0, channel=MemberChannel.GROUP),
        QR_SHOP: Holding(state=State.AWARE, source=Source.STORE),
    }
    pair = Pair(lifting_scenario(points_rate=points_rate))
    pair.put(0, Person(alpha=1.4, holdings=holdings))
    pair.set_reviews(b, stock)
    pair.apply(Event.ON_NEED, 0, b, seed, cat=CARE)
    contract(pair, [0], f"need b={b} stock={stock} seed={seed}")


ORDERS = [(0, 0), (3, 0), (0, 5), (4, 7), (40, 60)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("review_rate", [0.0, 0.3])
@pytest.mark.parametrize("orders", ORDERS, ids=lambda o: f"{o[0]}+{o[1]}")
@pytest.mark.parametrize("b", [GUIDED, PUBLIC])
def test_reviews_day(b, orders, review_rate, seed):
    """The day's reviews: one draw per order that can be reviewed (none when no review can
    happen), the reviews and the points for rewarded ones booked, the stock faded and
    grown, the day's counts reset."""
    pair = Pair(lifting_scenario(review_rate))
    pair.set_reviews(b, 12.5, *orders)
    pair.apply(Event.REVIEWS_DAY, 0, b, seed)
    contract(pair, [], f"reviews b={b} orders={orders} rate={review_rate} seed={seed}")
    ref = pair.ref.brands[b]
    assert ref.review_orders == [0, 0]
    reviews, _ = pair.ledger_slot("reviews", b)
    rewarded, _ = pair.ledger_slot("reviews_rewarded", b)
    points, _ = pair.ledger_slot("cost_points", b)
    assert ref.review_stock == pytest.approx(12.5 * 0.98 + reviews)
    assert points == pytest.approx(rewarded * ref.strategy.review_points)
    if orders[0] == 0 and review_rate == 0.0:  # nothing can be reviewed: no draw at all
        fresh = np.random.default_rng(seed).bit_generator.state
        assert pair.ref_rng.bit_generator.state == fresh
        assert reviews == 0
