"""Order values and baskets (issue 12, item 5): the rules (`sim.rules.basket_multiplier`,
`order_value_shape`, `order_list_value`), the order's stream sub-key
(`sim.streams.order_sub`) and the set-up draw of consumers' mean order values
(`sim.population.order_value_means`)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import population, rules
from sim.params import Scenario
from sim.streams import ORDER_SUB_ORDERS, Purpose, RunStreams, order_sub
from sim.vocab import Channel


@pytest.mark.parametrize(
    ("cross_sell", "breadth", "channel", "pushed", "expected"),
    [
        (0.3, 2.0, Channel.PRIVATE, False, 1.3),
        (0.3, 2.0, Channel.PLATFORM, True, 1.3),  # a push landing on the platform (assist)
        (0.3, 2.0, Channel.STORE, True, 1.3),
        (0.3, 2.0, Channel.PLATFORM, False, 1.0),  # a search on the platform: one product
        (0.3, 2.0, Channel.STORE, False, 1.0),
        (0.5, 1.5, Channel.PRIVATE, False, 1.25),
        (0.3, 1.0, Channel.PRIVATE, True, 1.0),  # one product: nothing to add
        (0.3, 0.6, Channel.PRIVATE, True, 1.0),  # a narrow range never shrinks the basket
        (0.0, 3.0, Channel.PRIVATE, True, 1.0),  # off
        (1.0, 3.0, Channel.PRIVATE, False, 3.0),
    ],
)
def test_basket_multiplier(cross_sell, breadth, channel, pushed, expected):
    """1 + x·max(B − 1, 0) on private-shop and pushed orders, 1 elsewhere."""
    assert rules.basket_multiplier(cross_sell, breadth, channel, pushed) == pytest.approx(expected)


def test_order_list_value_is_the_price_when_every_factor_is_one():
    """With no spread and no basket the list value is the price to the bit (the ledgers of
    scenarios without the mechanism stay byte-identical), and it scales with each factor."""
    for price in (200.0, 25.0, 0.1 + 0.2, 1e-300, 7.3e12):
        assert rules.order_list_value(price, 1.0, 1.0, 1.0) == price
        assert rules.order_list_value(price, 1.0, 1.0, 1.0) * 0.85 == price * 0.85
    assert rules.order_list_value(300.0, 0.5, 1.3, 2.0) == pytest.approx(300.0 * 0.5 * 1.3 * 2.0)


def test_order_value_shape():
    """Shape 1/cv² (mean 1, scale 1/shape), bounded as every Gamma spread is."""
    assert rules.order_value_shape(0.5) == pytest.approx(4.0)
    assert rules.order_value_shape(0.3) == pytest.approx(1 / 0.09)
    assert rules.order_value_shape(1e-200) == rules.GAMMA_SHAPE_MAX
    assert rules.order_value_shape(1e200) == rules.GAMMA_SHAPE_MIN
    assert rules.order_value_shape(1e-100) == pytest.approx(1e200)


def test_order_sub_keys_are_distinct():
    """Every (consumer, brand, orders so far mod 256) has its own sub-key, below 2⁶⁰ for
    consumers below 2³²; the order count wraps at 256."""
    keys = {
        int(order_sub(i, b, n))
        for i, b, n in itertools.product((0, 1, 7, 2**31 - 1), (0, 1, 5), range(300))
    }
    assert len(keys) == 4 * 3 * ORDER_SUB_ORDERS
    assert max(keys) < 2**60
    assert order_sub(3, 1, 2) == order_sub(3, 1, 2 + ORDER_SUB_ORDERS)
    assert order_sub(3, 1, 2) != order_sub(1, 3, 2)


def scenario(**category) -> Scenario:
    """Two categories; the first with the given order-value keys."""
    return Scenario.model_validate(
        {
            "categories": {"a": category, "b": {}},
            "brands": {"x": {"category": "a"}, "y": {"category": "b"}},
        }
    )


def test_mean_order_values_have_the_configured_spread():
    """Gamma across consumers with mean 1 and the category's cv, from the category's own
    set-up stream (index: its position in the scenario); 1 elsewhere."""
    n = 40_000
    streams = RunStreams(5)
    means = population.order_value_means(scenario(order_value_cv=0.5), ["a", "b"], n, streams)
    assert means.shape == (n, 2)
    assert np.mean(means[:, 0]) == pytest.approx(1.0, abs=0.01)
    assert np.std(means[:, 0]) / np.mean(means[:, 0]) == pytest.approx(0.5, abs=0.01)
    assert np.all(means[:, 1] == 1.0)
    expected = RunStreams(5).setup(Purpose.ORDER_VALUES, 0).gamma(4.0, 0.25, size=n)
    assert np.array_equal(means[:, 0], expected)


def test_no_spread_draws_nothing():
    """With cv 0 every consumer's mean is exactly 1 and no set-up stream is touched."""
    streams = RunStreams(5)
    means = population.order_value_means(scenario(), ["a", "b"], 100, streams)
    assert np.all(means == 1.0)
    for k in range(2):  # the category streams are where a fresh run's start
        fresh = RunStreams(5).setup(Purpose.ORDER_VALUES, k).random()
        assert streams.setup(Purpose.ORDER_VALUES, k).random() == fresh


@pytest.mark.parametrize(
    "key", ["order_value_cv", "order_value_cv_order"], ids=["across", "within"]
)
def test_negative_spread_is_refused(key):
    """A negative cv is an input error naming the key."""
    with pytest.raises(ValueError, match=key):
        scenario(**{key: -0.1})


def test_cross_sell_is_a_share():
    """cross_sell is a share of the extra range: above 1 is refused."""
    with pytest.raises(ValueError, match="cross_sell"):
        Scenario.model_validate({"brands": {"x": {"strategy": {"cross_sell": 1.5}}}})
