"""The engine contract for demand expansion (docs/ODD.md 7.20): the same membership, the same
event and the same Generator leave the same need lift, the same next need day and the same
draws in both engines; joins, mutes and leaves list the same consumers for the day's end;
the day's end step redraws from the run's own stream alike.

Need rates are powers of two (exact in the fast engine's float32), so the lifted daily need
probability, and with it the redrawn day, is the same number in both engines.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import rules
from sim.fast.events import Event
from sim.streams import Phase, need_sub
from sim.vocab import MemberChannel, Source, Touch
from tests.contract.adapter import Pair
from tests.contract.scenario import (
    CARE,
    GUIDED,
    QR_SHOP,
    QUOTA_ASSIST,
    TODAY,
    contract_scenario,
)
from tests.contract.state import Person, assert_same, customer, member

RATES = (2.0**-5, 2.0**-4)  # per category and day: exact in float32
SEEDS = (0, 1, 2)
LIFTS = {"guided": {"member_need_lift": 0.5}, "quota_assist": {"member_need_lift": 0.25}}


def pair_with(person: Person, lifts: dict | None = LIFTS, clock: int = TODAY + 40) -> Pair:
    pair = Pair(contract_scenario(**(lifts or {})))
    pair.put(0, person)
    pair.set_need_clock(0, CARE, clock)
    return pair


HOLDINGS = {
    "member": {GUIDED: member()},
    "muted": {GUIDED: member(muted=True)},
    "two_brands": {GUIDED: member(), QUOTA_ASSIST: member()},
    "lower_lift_only": {QUOTA_ASSIST: member(), GUIDED: customer()},
    "no_lift_brand": {QR_SHOP: member()},
    "customer": {GUIDED: customer()},
}
EXPECTED = {
    "member": 0.5,
    "muted": 0.0,
    "two_brands": 0.5,
    "lower_lift_only": 0.25,
    "no_lift_brand": 0.0,
    "customer": 0.0,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("holding", HOLDINGS)
def test_relift_need(holding, seed):
    """The lift from the memberships held (the largest over the category's brands; none
    when muted), and the clock redrawn from today at the new rate with one uniform."""
    pair = pair_with(Person(need_rates=RATES, holdings=HOLDINGS[holding]))
    pair.apply(Event.RELIFT_NEED, 0, GUIDED, seed, cat=CARE)
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, f"relift {holding} seed={seed}")
    lift = EXPECTED[holding]
    assert ref[f"c0.need_lift{CARE}"] == lift
    day = ref[f"c0.next_need{CARE}"]
    if lift == 0:  # no change: no draw, the clock stays
        assert day == TODAY + 40
        fresh = np.random.default_rng(seed).bit_generator.state["state"]
        assert ref["rng"] == (int(fresh["state"]), int(fresh["inc"]))
    else:
        p = rules.daily_need_probability(RATES[CARE] * (1 + lift))
        u = np.random.default_rng(seed).random()
        assert day == rules.redrawn_need_day(u, p, TODAY)


@pytest.mark.parametrize("seed", SEEDS)
def test_relift_need_after_leaving_stops_the_lift(seed):
    """A consumer with a lift in force who is no longer a member: lift 0, the clock back on
    its own rate (0 in the contract: never)."""
    pair = Pair(contract_scenario(**LIFTS))
    pair.put(0, Person(need_rates=RATES, holdings={GUIDED: customer()}))
    pair.set_need_clock(0, CARE, TODAY + 3, lift=0.5)
    pair.apply(Event.RELIFT_NEED, 0, GUIDED, seed, cat=CARE)
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, "relift after leaving")
    assert ref[f"c0.need_lift{CARE}"] == 0.0
    assert ref[f"c0.next_need{CARE}"] == rules.NEVER_DAY


def test_untracked_need_takes_the_lift_without_a_draw():
    """A need not tracked (the category unknown, next need −1): the lift is set, no draw."""
    pair = Pair(contract_scenario(**LIFTS))
    pair.put(0, Person(need_rates=RATES, holdings={GUIDED: member()}))
    pair.set_need_clock(0, CARE, -1)
    pair.apply(Event.RELIFT_NEED, 0, GUIDED, 0, cat=CARE)
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, "relift untracked")
    assert ref[f"c0.need_lift{CARE}"] == 0.5
    assert ref[f"c0.next_need{CARE}"] == -1
    fresh = np.random.default_rng(0).bit_generator.state["state"]
    assert ref["rng"] == (int(fresh["state"]), int(fresh["inc"]))  # nothing drawn


@pytest.mark.parametrize("lifted", [False, True])
def test_join_lists_the_joiner_only_where_the_brand_has_a_lift(lifted):
    pair = pair_with(
        Person(need_rates=RATES, holdings={GUIDED: customer()}), LIFTS if lifted else None
    )
    pair.apply(
        Event.JOIN,
        0,
        GUIDED,
        channel=MemberChannel.GUIDE,
        source=Source.STORE,
        guide=0,
        reluctant=False,
    )
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, "join")
    assert pair.demand_due() == (([0], [0]) if lifted else ([], []))


@pytest.mark.parametrize("in_force", [0.0, 0.5])
@pytest.mark.parametrize("event", ["leave", "lapse", "mute"])
def test_leave_lapse_and_mute_list_a_consumer_with_a_lift_in_force(event, in_force):
    tired = {"fatigue": 5.9, "updated": TODAY} if event == "mute" else {}
    pair = Pair(contract_scenario(**LIFTS))
    pair.put(0, Person(need_rates=RATES, holdings={GUIDED: member(**tired)}))
    pair.set_need_clock(0, CARE, TODAY + 40, lift=in_force)
    if event == "leave":
        pair.apply(Event.LEAVE, 0, GUIDED, excluded=False)
    elif event == "lapse":
        pair.apply(Event.LAPSE, 0, GUIDED)
    else:
        pair.apply(
            Event.RECEIVE_TOUCH, 0, GUIDED, kind=Touch.CONTENT, effect=1.0, skill=1.0, by_guide=0
        )
    ref, fast = pair.snapshots([0])
    assert_same(ref, fast, event)
    if event == "mute":
        assert ref[f"c0.b{GUIDED}.muted"]
    assert pair.demand_due() == (([0], [0]) if in_force else ([], []))


@pytest.mark.parametrize("lifted", [False, True])
def test_day_end_step_redraws_members_clocks_from_the_run_stream(lifted):
    """The day's end: the brands' lifts are new (day 0 saw none), so every member is
    recomputed; each changed clock is redrawn with the first uniform of stream
    (`Phase.DEMAND_EXPANSION`, today, consumer and category) in both engines. Without a
    lift nothing changes."""
    pair = Pair(contract_scenario(**(LIFTS if lifted else {})))
    people = {
        0: {GUIDED: member()},
        1: {QUOTA_ASSIST: member(), QR_SHOP: member()},
        2: {GUIDED: member(muted=True)},
        3: {GUIDED: customer()},
    }
    for i, holdings in people.items():
        pair.put(i, Person(need_rates=RATES, holdings=holdings))
        pair.set_need_clock(i, CARE, TODAY + 40)
    pair.expand_demand()
    ref, fast = pair.snapshots(list(people))
    assert_same(ref, fast, "day end")
    expected = {0: 0.5, 1: 0.25, 2: 0.0, 3: 0.0} if lifted else dict.fromkeys(people, 0.0)
    for i, lift in expected.items():
        assert ref[f"c{i}.need_lift{CARE}"] == lift
        day = ref[f"c{i}.next_need{CARE}"]
        if lift == 0:
            assert day == TODAY + 40
            continue
        u = pair.ref.streams.daily(Phase.DEMAND_EXPANSION, TODAY, need_sub(i, CARE)).random()
        p = rules.daily_need_probability(RATES[CARE] * (1 + lift))
        assert day == rules.redrawn_need_day(u, p, TODAY)
    assert pair.demand_due() == ([], [])
