"""The engine contract for organisation and channel conflict (ODD 7.18): the public team's
package cards under a separate private sales KPI, store invitations of customers a
franchisee keeps, and the private shop's guarantee in the choice, leave the same state,
ledger and draws in both engines (tests/test_contract.py's `check`, tests/contract)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.fast.events import Event
from sim.params import Scenario
from sim.vocab import Channel, MemberChannel, Prompt, Source, State
from tests.contract.adapter import Pair
from tests.contract.scenario import CARE, GUIDED, QR_SHOP, QUOTA_ASSIST, contract_scenario
from tests.contract.state import Holding, Person, assert_same, customer, member

SEEDS = range(8)
BRAND_NAMES = ("guided", "quota_assist", "qr_shop", "public")


def scenario(brand_keys: dict | None = None, **strategy) -> Scenario:
    """The contract's market with strategy overrides and brand keys (`name.key`: value)."""
    sc = contract_scenario(**strategy)
    return sc.changed({f"brands.{k}": v for k, v in (brand_keys or {}).items()})


def check_pair(sc: Scenario, person: Person, event: Event, b: int, seed: int, **kw) -> Pair:
    """Consumer 0 in state `person`, one event in both engines, then the contract."""
    pair = Pair(sc)
    pair.put(0, person)
    answers = pair.apply(event, 0, b, seed, **kw)
    assert answers[0] == answers[1], f"answers differ: {answers}"
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, f"{event.name} b={b} seed={seed} {kw}")
    return pair


def invites(pair: Pair, b: int) -> float:
    ref, fast = pair.ledger_slot("invites", b)
    assert ref == fast
    return ref


@pytest.mark.parametrize("cooperation", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("b", [GUIDED, QR_SHOP, QUOTA_ASSIST])
def test_package_cards_under_a_separate_private_sales_kpi(b, cooperation):
    """A platform order by a non-member: the package card is sent with the rate times the
    public team's cooperation where the brand runs its own shop (guided, qr_shop), at the
    full rate under the assist policy (quota_assist): same draw, same invitation, same
    join in both engines. With no cooperation a separate shop sends no card at all."""
    name = BRAND_NAMES[b]
    sc = contract_scenario(
        **{name: {"private_sales_kpi": "separate", "public_team_cooperation": cooperation}}
    )
    sent = 0.0
    for seed in SEEDS:
        pair = check_pair(
            sc,
            Person(holdings={b: customer()}),
            Event.PURCHASE,
            b,
            seed,
            channel=Channel.PLATFORM,
            prompt=Prompt.NONE,
            share=1.0,
        )
        sent += invites(pair, b)
    if cooperation == 0.0 and b != QUOTA_ASSIST:
        assert sent == 0
    else:
        assert sent > 0


@pytest.mark.parametrize("handover", [0.0, 1.0])
@pytest.mark.parametrize("b", [GUIDED, QUOTA_ASSIST, QR_SHOP])
def test_store_invitation_of_a_customer_its_franchisee_keeps(b, handover):
    """Every store franchised (share 1): kept from the private domain (handover 0), the
    visitor is never invited, by a guide or the QR code, yet the draw is made as before;
    handed over (handover 1), it is invited as by a direct store."""
    name = BRAND_NAMES[b]
    sc = scenario({f"{name}.franchise_share": 1.0, f"{name}.franchise_handover": handover})
    made = 0.0
    for seed in SEEDS:
        pair = check_pair(sc, Person(holdings={b: customer()}), Event.STORE_INVITE, b, seed)
        made += invites(pair, b)
    assert np.array_equal(pair.ref.withheld, pair.fast.W.withheld)
    assert pair.ref.withheld[b].all() == (handover == 0.0)
    assert (made == 0) == (handover == 0.0)


def test_store_buyer_of_a_franchised_store_is_not_invited():
    """A store order by a non-member whose store's franchisee keeps it: no invitation in
    either engine, and the same dropout draw."""
    sc = scenario({"guided.franchise_share": 1.0})
    for seed in SEEDS:
        pair = check_pair(
            sc,
            Person(holdings={GUIDED: customer()}),
            Event.PURCHASE,
            GUIDED,
            seed,
            channel=Channel.STORE,
            prompt=Prompt.NONE,
            share=1.0,
        )
        assert invites(pair, GUIDED) == 0


def test_both_engines_draw_the_same_channel_owners():
    """Half the consumers' stores franchised, a quarter of those handed over: the same
    consumers are withheld in both engines (the brand's own set-up stream)."""
    sc = scenario(
        {"qr_shop.franchise_share": 0.5, "qr_shop.franchise_handover": 0.25},
    ).changed({"run.consumers": 400})
    pair = Pair(sc)
    assert np.array_equal(pair.ref.withheld, pair.fast.W.withheld)
    assert not pair.ref.withheld[[GUIDED, QUOTA_ASSIST]].any()
    assert 0.25 < pair.ref.withheld[QR_SHOP].mean() < 0.5


@pytest.mark.parametrize("guarantee", [0.0, 1.0, 2.5])
@pytest.mark.parametrize("seed", range(4))
def test_need_with_a_private_shop_guarantee(guarantee, seed):
    """A member's need with a guarantee in the brand's own shop: the same logit over
    brands and channels (the shop's utility raised by trust_weight x trust x guarantee)
    and the same order in both engines."""
    sc = contract_scenario(guided={"private_guarantee": guarantee})
    person = Person(
        alpha=1.3,
        trust=0.8,
        holdings={
            GUIDED: member(spend=150.0, channel=MemberChannel.GROUP, engagement=0.4),
            QR_SHOP: Holding(state=State.AWARE, source=Source.STORE),
        },
    )
    check_pair(sc, person, Event.ON_NEED, GUIDED, seed, cat=CARE)
    utilities = []
    for market in (sc, contract_scenario()):
        fresh = Pair(market)
        fresh.put(0, person)
        utilities.append({ch: u for ch, u, _ in fresh.ref.consumers[0].options(GUIDED)})
    shop, base = utilities
    lift = sc.population.trust_weight * 0.8 * guarantee
    assert shop[Channel.PRIVATE] - base[Channel.PRIVATE] == pytest.approx(lift)
    assert shop[Channel.PLATFORM] == base[Channel.PLATFORM]
