"""The engine contract for the calendar (618, Double 11 and user-defined festivals): a
festival day's extra need and a brand's festival post, fed to both engines from the same
state with the same Generator, leave the same state and ledger entries (see
tests/test_contract.py for what is compared and why)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, run
from sim.fast.events import Event
from sim.vocab import MemberChannel, Source, State
from tests.contract.adapter import Pair
from tests.contract.scenario import CARE, GUIDED, PUBLIC, QR_SHOP, SNACKS, contract_scenario
from tests.contract.state import Holding, Person, assert_same, customer, member

SEEDS = range(8)


def check(people: dict[int, Person], event: Event, b: int, seed: int, overrides=None, **kw) -> Pair:
    """Consumers in their states, one event on consumer 0 and brand b, then the contract."""
    pair = Pair(contract_scenario(**(overrides or {})))
    for i, person in people.items():
        pair.put(i, person)
    pair.apply(event, 0, b, seed, **kw)
    ref, fast = pair.snapshots(list(people))
    assert_same(ref, fast, f"{event.name} b={b} seed={seed} {kw}")
    return pair


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("multiplier", [1.0, 2.0, 40.0])
@pytest.mark.parametrize("cat", [CARE, SNACKS])
def test_festival_need(cat, multiplier, seed):
    """A festival day's extra need: drawn with probability 1 − e^{−(m−1)λ} (none at m = 1,
    almost sure at m = 40), then met like a due need: a choice among the known brands'
    channels and the outside option, an order."""
    holdings = {
        GUIDED: member(spend=150.0, channel=MemberChannel.GROUP, engagement=0.6),
        QR_SHOP: Holding(state=State.AWARE, source=Source.STORE),
        PUBLIC: customer(),
    }
    person = Person(alpha=1.2, need_rates=(0.1, 0.2), holdings=holdings)
    check({0: person}, Event.FESTIVAL_NEED, GUIDED, seed, cat=cat, multiplier=multiplier)


def test_festival_need_happens():
    """The contract above is not vacuous: at m = 40 the extra need ends in orders."""
    person = Person(alpha=1.2, need_rates=(0.1, 0.2), holdings={GUIDED: customer()})
    orders = 0
    for seed in SEEDS:
        pair = check({0: person}, Event.FESTIVAL_NEED, GUIDED, seed, cat=CARE, multiplier=40.0)
        orders += int(pair.ref.consumers[0].purchases[GUIDED]) - 1
    assert orders > 0


def _members() -> dict[int, Person]:
    """Members of brand `guided` in each channel (a guide's 1:1 member is not posted to),
    one tired enough to mute, and a customer who is not a member."""
    return {
        0: Person(holdings={GUIDED: member(spend=90.0, channel=MemberChannel.GROUP)}),
        1: Person(
            need_rates=(0.2, 0.05),
            holdings={
                GUIDED: member(spend=90.0, channel=MemberChannel.MINI_PROGRAM, engagement=0.9)
            },
        ),
        2: Person(
            holdings={
                GUIDED: member(spend=90.0, channel=MemberChannel.GROUP, fatigue=5.9, updated=10)
            }
        ),
        3: Person(holdings={GUIDED: member(spend=90.0, channel=MemberChannel.GUIDE, guide=0)}),
        4: Person(holdings={GUIDED: customer()}),
    }


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["content", "service", "selling", "none"])
def test_festival_post(kind, seed):
    """A brand's festival post of each kind (or none) to its group and mini-program
    members: engagement, fatigue, harvest feeling, selling conversions and mutes as a
    broadcast's, nothing for a guide's 1:1 member or a non-member."""
    overrides = {"guided": {"festival_broadcast": kind}}
    pair = check(_members(), Event.FESTIVAL_POST, GUIDED, seed, overrides)
    ref, _ = pair.ledger_slot("touches_total", GUIDED)
    assert ref == (0 if kind == "none" else 3)


def test_both_engines_price_festival_traffic_alike():
    """The day's CPM (the festival's multiplier on `traffic_cpm`) depends on the date and
    the ads alone: on a run through 618 both engines book the same price every day, and it
    rises by the preset's multiplier on the festival's first day."""
    sc = load_scenario("festival_calendar").changed(
        {"run.consumers": 200, "run.days": 20, "calendar.start_day_of_year": "05-25"}
    )
    cpm = {}
    for engine in ("agents", "fast"):
        ledger = run(sc, 3, engine=engine).ledger
        cpm[engine] = ledger[ledger["brand"] == "brand"]["cpm"].to_numpy()
    np.testing.assert_array_equal(cpm["agents"], cpm["fast"])
    day = 7  # 1 June
    assert cpm["fast"][day] / cpm["fast"][day - 1] > 1.49
