"""Stylised facts about order values and baskets (issue 12, item 5; docs/FACTS.md
'basket'): cross-sell in the private shop raises private order value, GMV and contribution
against the same brand without it, and order values vary across consumers and from order
to order with the spreads the category sets (Gamma-Gamma spend)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import polygamma

from sim import load_scenario, rules, run
from sim.effects import t_half_width
from sim.vocab import Channel
from tests.facts.common import paired, twin_runs

NAME = "basket_cross_sell"
SEEDS = 3


@cache
def recorded(seed: int, folder: Path):
    """The scenario's run with `seed`, its orders written to `folder` (orders.parquet)."""
    return run(load_scenario(NAME), seed=seed, events=folder / f"seed{seed}")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list:
    """Runs of the scenario for seeds 1..SEEDS, each with its event output."""
    folder = tmp_path_factory.mktemp("basket_events")
    return [recorded(seed, folder) for seed in range(1, SEEDS + 1)]


def interval(diffs: list[float]) -> tuple[float, float]:
    """95% t-interval of the mean of paired differences."""
    d = np.asarray(diffs)
    half = float(t_half_width(pd.Series([d.std(ddof=1)]), pd.Series([d.size])).iloc[0])
    return d.mean() - half, d.mean() + half


def private_order_value(result) -> float:
    """Mean value of the brand's private-shop orders over the run (yuan per order)."""
    ledger = result.ledger
    return float(ledger["gmv_private"].sum() / ledger["orders_private"].sum())


def contribution(result) -> float:
    """The brand's gross profit minus every cost over the run."""
    return float(result.ledger["gross_profit"].sum() - result.ledger["cost_total"].sum())


def gmv(result) -> float:
    return float(result.ledger["gmv_total"].sum())


def test_cross_sell_raises_private_order_value_gmv_and_contribution(results):
    """docs/FACTS.md 'basket' (rests on the inputs cross_sell = 0.3 and the beauty range's
    sku_breadth = 2: the basket of a private-shop or pushed order is 1.3 products' worth).
    Against the same brand without cross-sell (`no_cross_sell`, same seeds), the private
    shop's mean order value is 20-40% higher on every seed while the orders are the same
    ones (cross-sell changes what a basket holds, not who buys where: common random
    numbers keep every choice); incremental GMV and contribution (gross profit on the
    larger baskets net of the commissions they carry) are above 0 with their 95%
    intervals, and GMV grows by less than the basket's 30% (only private-shop and pushed
    orders grow) (3 pairs)."""
    twins = twin_runs(NAME, "no_cross_sell", SEEDS)
    lifts = [
        private_order_value(r) / private_order_value(t) for r, t in zip(results, twins, strict=True)
    ]
    assert all(1.2 <= lift <= 1.4 for lift in lifts), lifts
    orders = paired(results, twins, lambda r: float(r.ledger["orders_total"].sum()))
    assert orders == [0.0] * SEEDS
    for measure in (gmv, contribution):
        low, _ = interval(paired(results, twins, measure))
        assert low > 0, measure.__name__
    assert max(g / gmv(t) for g, t in zip(paired(results, twins, gmv), twins, strict=True)) < 0.3


@pytest.fixture(scope="module")
def orders(results) -> pd.DataFrame:
    """The orders of the runs (consumers keyed by seed and index), each relative to what its
    channel and prompt make of the price (the share its discount leaves, the basket of a
    private-shop or pushed order): each is then the buyer's mean times its own draw, m_i·w."""
    sc = load_scenario(NAME)
    st, cat = sc.brands["brand"].strategy, sc.categories["beauty"]
    assert not st.tier_spend and st.member_coupon == 0 and st.platform_discount == 0
    frames = []
    for result in results:
        frame = pd.read_parquet(Path(result.events) / "orders.parquet")
        frames.append(frame.assign(consumer=frame["consumer"] + result.seed * sc.run.consumers))
    out = pd.concat(frames, ignore_index=True)
    private = (out["channel"] == "private").to_numpy()
    pushed = out["prompt"].isin(["guide", "push"]).to_numpy()
    channels = np.where(private, Channel.PRIVATE, Channel.PLATFORM)
    basket = [
        rules.basket_multiplier(st.cross_sell, cat.sku_breadth, int(c), bool(p))
        for c, p in zip(channels, pushed, strict=True)
    ]
    share = np.where(private, 1.0 - st.private_discount, 1.0)
    return out.assign(relative=out["value"] / (cat.price * share * np.array(basket)))


def test_order_values_have_the_configured_spread(orders):
    """docs/FACTS.md 'basket' (rests on the inputs order_value_cv = 0.5 and
    order_value_cv_order = 0.3; checks that the runs realise them). With m_i ~
    Gamma(mean 1, cv 0.5) across consumers and w ~ Gamma(mean 1, cv 0.3) per order, the log
    of the ratio of two orders of one consumer has variance 2·ψ₁(1/0.3²) (the consumer's
    mean cancels), and the log of an order's value variance ψ₁(1/0.5²) + ψ₁(1/0.3²)
    (ψ₁: trigamma). Both are met within 20% (three runs), and values average the price
    within 10%."""
    sc = load_scenario(NAME).categories["beauty"]
    assert set(orders["channel"]) <= {"platform", "private"}
    k_across, k_order = 1 / sc.order_value_cv**2, 1 / sc.order_value_cv_order**2
    logs = np.log(orders["relative"].to_numpy())
    assert len(logs) > 2000
    assert orders["relative"].mean() == pytest.approx(1.0, rel=0.1)
    total = float(polygamma(1, k_across) + polygamma(1, k_order))
    assert np.var(logs) == pytest.approx(total, rel=0.2)
    by_consumer = orders.assign(log=logs).groupby("consumer")["log"]
    pairs = by_consumer.apply(lambda s: np.diff(s.to_numpy()[:2])).explode().dropna()
    pairs = pairs.astype(float).to_numpy()
    assert len(pairs) > 400
    within = float(2 * polygamma(1, k_order))
    assert np.mean(pairs**2) == pytest.approx(within, rel=0.2)
