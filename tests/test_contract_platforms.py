"""The engine contract for several public platforms: an order or a choice by a consumer of
each home platform, with the same state and Generator, leaves the same state and ledger in
both engines — the home platform's take rate on platform orders, its buyer protection in
the choice, and its ban risk on package cards (the ban draw is the order's own uniform of
stream `Phase.PLATFORM_BAN`, `sim.streams.order_uniform`, so both engines block the same
cards)."""

from __future__ import annotations

import pytest

from sim.fast.events import Event
from sim.params import Scenario, platform_terms
from sim.vocab import Channel, Prompt, Source, State
from tests.contract.adapter import Pair
from tests.contract.scenario import CARE, GUIDED, QR_SHOP, contract_scenario
from tests.contract.state import Holding, Person, assert_same, customer, member

PLATFORMS = {
    "tmall": {"shoppers": 0.5, "take_rate": 0.05, "buyer_protection": 1.0},
    "jd": {"shoppers": 0.2, "take_rate": 0.07, "buyer_protection": 1.5},
    "douyin": {
        "shoppers": 0.3,
        "take_rate": 0.1,
        "buyer_protection": 0.3,
        "discovery": "feed",
        "feed_boost": 3.0,
        "ban_risk": 0.5,
    },
}
DOUYIN = 2


def platforms_scenario() -> Scenario:
    """The contract's tiny market on three named platforms (Douyin bans half the cards)."""
    return contract_scenario().changed({"platforms": PLATFORMS})


def order_pair(i: int, home: int, b: int, holding: Holding, seed: int) -> Pair:
    """Consumer i of home platform `home` places a platform order with brand b."""
    pair = Pair(platforms_scenario())
    pair.put(i, Person(holdings={b: holding}))
    pair.set_home(i, home)
    pair.apply(Event.PURCHASE, i, b, seed, channel=Channel.PLATFORM, prompt=Prompt.NONE, share=0.9)
    ref, fast = pair.snapshots([i])
    assert_same(ref, fast, f"platform order home={home} b={b} i={i} seed={seed}")
    return pair


@pytest.mark.parametrize("home", range(len(PLATFORMS)))
def test_platform_order_pays_the_home_platforms_take_rate(home):
    """A platform order's commission is its home platform's take rate, in both engines."""
    holding = Holding(state=State.AWARE, source=Source.ADS, dropout=0.0)
    pair = order_pair(0, home, GUIDED, holding, seed=1)
    take = list(PLATFORMS.values())[home]["take_rate"]
    for engine in (0, 1):
        gmv = pair.ledger_slot("gmv_platform", GUIDED)[engine]
        commission = pair.ledger_slot("cost_platform_commission", GUIDED)[engine]
        assert gmv > 0
        assert commission == pytest.approx(take * gmv)


def test_package_cards_on_a_platform_with_ban_risk_are_blocked_alike():
    """Every parcel of brand qr_shop carries a card: on Douyin (ban risk 0.5) each is blocked
    or not by the order's own uniform, the same in both engines, and a blocked card books
    `cards_blocked` and invites no one; on Tmall (no ban risk) no card is blocked."""
    blocked = {0: 0, DOUYIN: 0}
    orders = 0
    for i in range(12):
        for home in blocked:
            holding = customer(purchases=1 + i % 3, dropout=0.0)
            pair = order_pair(i, home, QR_SHOP, holding, seed=i)
            ref, fast = pair.ledger_slot("cards_blocked", QR_SHOP)
            assert ref == fast
            blocked[home] += int(ref)
            orders += home == DOUYIN
            invites = pair.ledger_slot("invites", QR_SHOP)[0]
            assert invites == (0.0 if ref else 1.0)
    assert blocked[0] == 0
    assert 0 < blocked[DOUYIN] < orders


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("home", range(len(PLATFORMS)))
def test_need_weighs_the_home_platforms_buyer_protection(home, seed):
    """A need: the choice among a brand's channels weighs the home platform's buyer
    protection (times trust), the same in both engines."""
    pair = Pair(platforms_scenario())
    person = Person(
        alpha=1.2, holdings={GUIDED: member(spend=150.0, engagement=0.5), QR_SHOP: customer()}
    )
    pair.put(0, person)
    pair.set_home(0, home)
    pair.apply(Event.ON_NEED, 0, GUIDED, seed, cat=CARE)
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, f"need home={home} seed={seed}")


def test_one_platform_is_the_platform_table():
    """Without [platforms] the one platform is `[platform]` (its terms, all shoppers)."""
    sc = contract_scenario()
    (only,) = platform_terms(sc)
    assert only.take_rate == sc.platform.take_rate
    assert only.buyer_protection == sc.platform.buyer_protection
    assert only.base_cpm == sc.platform.base_cpm
    assert only.ban_risk == 0.0 and only.discovery == "search"
    pair = Pair(sc)
    assert not pair.ref.homes.any() and not pair.fast.W.home.any()
