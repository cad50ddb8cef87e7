"""The rules and bookings of private lifting public (ODD 7.21): review chances, the review
stock and the platform rating it builds, points as a currency; and that with its levers
off (the defaults) a run draws nothing for it and books nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import accounting as A
from sim import rules
from sim.ledger import COLUMN_INDEX, COLUMNS
from sim.params import Scenario
from sim.runner import run
from sim.vocab import Channel, Source


def test_review_kind_only_platform_orders_and_rewarded_members():
    kind = rules.review_kind
    assert kind(Channel.PLATFORM, True, True, 5.0) == rules.REVIEW_REWARDED
    assert kind(Channel.PLATFORM, True, True, 0.0) == rules.REVIEW_OTHER  # no reward
    assert kind(Channel.PLATFORM, True, False, 5.0) == rules.REVIEW_OTHER  # ops off: frozen
    assert kind(Channel.PLATFORM, False, True, 5.0) == rules.REVIEW_OTHER
    assert kind(Channel.PRIVATE, True, True, 5.0) == -1
    assert kind(Channel.STORE, False, True, 5.0) == -1


def test_review_probability_rises_with_the_reward_and_saturates():
    p = rules.review_probability
    assert p(0.02, False, 20.0, 10.0, 300.0) == 0.02  # not rewarded: the base rate
    assert p(0.02, True, 20.0, 0.0, 300.0) == pytest.approx(0.02)  # no reward: the base rate
    assert p(0.0, True, 20.0, 10.0, 300.0) == pytest.approx(1 - math.exp(-20 * 10 / 300))
    assert p(0.02, True, 20.0, 10.0, 300.0) == pytest.approx(1 - 0.98 * math.exp(-20 * 10 / 300))
    rising = [p(0.02, True, 20.0, r, 300.0) for r in (1.0, 5.0, 20.0, 100.0, 1e4)]
    assert rising == sorted(rising) and rising[-1] == pytest.approx(1.0)
    assert p(0.0, False, 20.0, 10.0, 300.0) == 0.0


def test_review_stock_fades_and_grows():
    assert rules.review_stock_after(0.0, 0.0, 0.01) == 0.0
    assert rules.review_stock_after(100.0, 3.0, 0.01) == pytest.approx(102.0)
    q = 0.0
    for _ in range(5000):  # constant inflow r: the stock tends to r / decay
        q = rules.review_stock_after(q, 2.0, 0.01)
    assert q == pytest.approx(200.0, rel=1e-6)


def test_platform_rating_saturates_and_is_zero_without_reviews():
    v = rules.platform_rating_value
    assert v(0.5, 0.0, 1000, 0.02) == 0.0
    assert v(0.5, 20.0, 1000, 0.02) == pytest.approx(0.25)  # half saturation: 0.02 a consumer
    assert v(0.5, 1e9, 1000, 0.02) == pytest.approx(0.5, rel=1e-6)
    assert v(0.5, 20.0, 2000, 0.02) == pytest.approx(0.5 * 0.01 / 0.03)  # per consumer
    assert v(0.0, 50.0, 1000, 0.02) == 0.0


def test_points_are_worth_their_money_to_members_only():
    assert rules.points_value(False, 0.05, 1.2, 0.9) == 0.0
    assert rules.points_value(True, 0.05, 1.2, 0.9) == pytest.approx(1.2 * 0.05 * 0.9)
    # the utility of a member's price share s with points: −α·s·(1 − π)
    u = rules.channel_utility(0.9, 1.2, 0.3 + rules.points_value(True, 0.05, 1.2, 0.9))
    assert u == pytest.approx(-1.2 * 0.9 * 0.95 + 0.3)
    assert rules.points_earned(True, True, 0.05, 200.0) == pytest.approx(10.0)
    assert rules.points_earned(True, False, 0.05, 200.0) == 0.0
    assert rules.points_earned(False, True, 0.05, 200.0) == 0.0


def slot() -> np.ndarray:
    return np.zeros((len(COLUMNS), 2))


def booked(day: np.ndarray, b: int = 1) -> dict[str, float]:
    return {name: float(day[k, b]) for name, k in COLUMN_INDEX.items() if day[k, b]}


def test_bookings():
    day = slot()
    A.book_points(day, 1, 0.0, A.SERVES)
    assert booked(day) == {}
    A.book_points(day, 1, 6.0, int(Source.ADS))  # a first order's points: acquisition
    A.book_points(day, 1, 4.0, A.SERVES)
    A.book_reviews(day, 1, 3, 2, 5.0)
    A.book_review_stock(day, 1, 17.5)
    assert booked(day) == {
        "cost_points": 25.0,
        "cost_total": 25.0,
        "acq_cost_ads": 6.0,
        "serve_cost": 19.0,
        "reviews": 5.0,
        "reviews_rewarded": 3.0,
        "review_stock": 17.5,
    }
    day = slot()
    A.book_reviews(day, 1, 0, 4, 5.0)
    assert booked(day) == {"reviews": 4.0}


LIFT_COLUMNS = ("reviews", "reviews_rewarded", "review_stock", "cost_points")


def small(**strategy) -> Scenario:
    return Scenario.model_validate(
        {
            "run": {"days": 120, "consumers": 400},
            "brands": {
                "brand": {
                    "initial": {"aware": 0.3, "customers": 0.2, "members": 0.1},
                    "strategy": {"channel_policy": "assist", "member_coupon": 0.05, **strategy},
                }
            },
        }
    )


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_off_by_default_books_nothing(engine):
    """With the defaults (no review rate, no points) the mechanism's columns stay 0."""
    led = run(small(), 3, engine).ledger
    for column in LIFT_COLUMNS:
        assert (led[column] == 0).all(), column


@pytest.mark.parametrize("engine", ["agents", "fast"])
def test_points_for_reviews_build_a_review_stock(engine):
    """Members rewarded for reviews post them, the stock builds, points are paid."""
    led = run(small(review_points=10.0, points_rate=0.02), 3, engine).ledger
    assert led["reviews_rewarded"].sum() > 0
    assert led["review_stock"].iloc[-1] > 0
    assert led["cost_points"].sum() > 10.0 * led["reviews_rewarded"].sum()  # and on orders
