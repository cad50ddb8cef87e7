"""The engine contract for lifecycle operations: a guide's lifecycle touches
(`Guide.lifecycle_touches`, kernel `lifecycle_touches`, event `LIFECYCLE_TOUCHES`) applied
to the same members with the same Generator leave the same state (each membership's last
lifecycle touch included) and the same ledger entries (touches by kind and by segment) in
both engines; and the order of priority (welcome, win-back, birthday) is the one served."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.fast.events import Event
from sim.params import StrategyParams
from sim.rules import WELCOMED_BEFORE_RUN
from sim.vocab import MemberChannel
from tests.contract.adapter import Pair
from tests.contract.scenario import GUIDED, TODAY, contract_scenario
from tests.contract.state import Member, Person, assert_same, member

LIFECYCLE = {
    "touch_targeting": "lifecycle",
    "welcome_days": 7,
    "winback_after": 0.5,  # care buys 4 times a year: due 46 to 365 days after an order
    "winback_until": 4.0,
    "birthday_days": 3,
}
MIXES = {
    "brand_mix": {},
    "selling": {
        "welcome_mix": {"content": 0.2, "service": 0.3, "selling": 0.5},
        "winback_mix": {"content": 0.0, "service": 0.0, "selling": 1.0},
        "birthday_mix": {"content": 0.5, "service": 0.0, "selling": 0.5},
    },
}


def guide_member(**kw) -> Member:
    return Member(channel=MemberChannel.GUIDE, guide=0, **kw)


def welcome_due() -> Person:
    """Joined on day 4 (within 7 days of TODAY), no lifecycle touch yet."""
    return Person(
        need_rates=(0.3, 0.05), holdings={GUIDED: replace(member(), member=guide_member())}
    )


def winback_due() -> Person:
    """A day-0 member whose last order was 100 days ago."""
    m = guide_member(lifecycle_day=WELCOMED_BEFORE_RUN, engagement=0.7)
    holding = replace(member(), member=m, last_purchase=TODAY - 100)
    return Person(need_rates=(0.4, 0.05), holdings={GUIDED: holding})


def birthday_due(touched: int = WELCOMED_BEFORE_RUN) -> Person:
    """A day-0 member who bought recently and whose birthday was yesterday."""
    m = guide_member(lifecycle_day=touched)
    return Person(birthday=TODAY - 1, holdings={GUIDED: replace(member(), member=m)})


def lifecycle_check(people: dict[int, Person], n: int, seed: int, mix: str) -> Pair:
    """Put the people in the state, let guide 0 of GUIDED send up to n lifecycle touches in
    both engines, and hold them to the contract."""
    pair = Pair(contract_scenario(guided={**LIFECYCLE, **MIXES[mix]}))
    for i, person in people.items():
        pair.put(i, person)
    pair.apply(Event.LIFECYCLE_TOUCHES, 0, GUIDED, seed, n=n)
    ref, fast = pair.snapshots(list(people))
    assert_same(ref, fast, f"lifecycle n={n} seed={seed} mix={mix}")
    return pair


def segment_counts(pair: Pair) -> tuple[float, float, float]:
    """Lifecycle touches booked today by segment (welcome, win-back, birthday)."""
    out = []
    for seg in ("welcome", "winback", "birthday"):
        ref, fast = pair.ledger_slot(f"lifecycle_{seg}", GUIDED)
        assert ref == fast
        out.append(ref)
    return tuple(out)


@pytest.mark.parametrize("mix", MIXES)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 2, 5])
def test_welcome_before_winback(n, seed, mix):
    """A welcome-due and a win-back-due member of one guide: n = 1 serves the welcome
    only; more serve both, each once, with kinds from their segment's mix."""
    pair = lifecycle_check({0: winback_due(), 1: welcome_due()}, n, seed, mix)
    welcome, winback, birthday = segment_counts(pair)
    assert (welcome, winback, birthday) == ((1.0, 0.0, 0.0) if n == 1 else (1.0, 1.0, 0.0))


@pytest.mark.parametrize("seed", range(4))
def test_birthday_touch(seed):
    """A member whose birthday was yesterday is due one birthday touch (a selling-heavy
    mix); it stays lower in priority than a welcome."""
    pair = lifecycle_check({0: birthday_due(), 1: welcome_due()}, 1, seed, "selling")
    assert segment_counts(pair) == (1.0, 0.0, 0.0)
    pair = lifecycle_check({0: birthday_due(), 1: welcome_due()}, 2, seed, "selling")
    assert segment_counts(pair) == (1.0, 0.0, 1.0)


def test_no_touch_when_none_is_due():
    """A birthday already answered (a lifecycle touch since), and a muted welcome-due
    member: nothing is sent, nothing drawn."""
    muted = Person(
        holdings={GUIDED: replace(member(), member=guide_member(muted=True))},
    )
    pair = lifecycle_check({0: birthday_due(touched=TODAY - 1), 1: muted}, 3, 0, "selling")
    assert segment_counts(pair) == (0.0, 0.0, 0.0)


def test_adopting_birthday_touches_draws_the_same_birthdays():
    """No birthday is drawn until a strategy touches members on them; adopting one (a
    strategy review, or the workshop) draws them from the same stream in both engines."""
    pair = Pair(contract_scenario())
    assert (pair.ref.birthdays == -1).all() and (pair.fast.W.birthday == -1).all()
    old = pair.ref.strategy(GUIDED)
    new = StrategyParams.model_validate({**old.model_dump(), **LIFECYCLE})
    pair.adopt(GUIDED, new)
    assert (pair.ref.birthdays >= 0).all()
    assert np.array_equal(pair.ref.birthdays, pair.fast.W.birthday)
    ref, fast = pair.snapshots([])
    assert_same(ref, fast, "adopt lifecycle")
