"""Lifecycle operations: the rules (which segment a member is due, in which order a guide
serves them), the parameters (segment mixes, the win-back window) and that birthdays are
drawn only when a strategy touches members on them."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from sim import load_scenario, population, rules
from sim.model import MarketModel
from sim.params import ContentMix, StrategyParams
from sim.rules import NO_LIFECYCLE_TOUCH, WELCOMED_BEFORE_RUN
from sim.vocab import Segment

NEVER = NO_LIFECYCLE_TOUCH


def segment(
    today=100,
    joined=0,
    last_purchase=-(10**6),
    bought=False,
    birthday=-1,
    last_touch=WELCOMED_BEFORE_RUN,
    welcome_days=7,
    start=91.25,
    end=365.0,
    birthday_days=5,
) -> int:
    return rules.lifecycle_segment(
        today,
        joined,
        last_purchase,
        bought,
        birthday,
        last_touch,
        welcome_days,
        start,
        end,
        birthday_days,
    )


def test_welcome_within_the_window_once():
    assert segment(today=10, joined=4, last_touch=NEVER) == Segment.WELCOME
    assert segment(today=10, joined=3, last_touch=NEVER) == Segment.NONE  # 7 days on
    assert segment(today=10, joined=4, last_touch=9) == Segment.NONE  # already welcomed
    assert segment(today=3, joined=0) == Segment.NONE  # a day-0 member: welcomed before
    assert segment(today=10, joined=4, last_touch=NEVER, welcome_days=0) == Segment.NONE


def test_winback_in_its_window_once_per_order():
    due = {"bought": True, "last_purchase": 0}
    assert segment(today=91, **due) == Segment.NONE  # 91 < 91.25 days: not yet
    assert segment(today=92, **due) == Segment.WINBACK
    assert segment(today=364, **due) == Segment.WINBACK
    assert segment(today=365, **due) == Segment.NONE  # given up
    assert segment(today=200, last_touch=150, **due) == Segment.NONE  # won back already
    assert segment(today=200, last_touch=80, **due) == Segment.WINBACK  # touched before
    assert segment(today=200, last_purchase=0, bought=False) == Segment.NONE  # never bought


def test_birthday_within_days_of_it_once_a_year():
    assert segment(today=365 + 40, birthday=38) == Segment.BIRTHDAY
    assert segment(today=365 + 43, birthday=38) == Segment.NONE  # 5 days on
    assert segment(today=37, birthday=38) == Segment.NONE  # the day before
    assert segment(today=2, birthday=364) == Segment.BIRTHDAY  # across the new year
    assert segment(today=40, birthday=38, last_touch=39) == Segment.NONE
    assert segment(today=40, birthday=38, last_touch=37) == Segment.BIRTHDAY
    assert segment(today=40, birthday=-1) == Segment.NONE
    assert segment(today=40, birthday=38, birthday_days=0) == Segment.NONE


def test_priority_welcome_then_winback_then_birthday():
    both = {"today": 200, "joined": 198, "last_touch": NEVER, "birthday": 199, "bought": True}
    assert segment(last_purchase=50, **both) == Segment.WELCOME
    keys = [
        rules.lifecycle_priority(s, i, 1000)
        for s, i in ((Segment.BIRTHDAY, 3), (Segment.WELCOME, 999), (Segment.WINBACK, 0))
    ]
    assert sorted(keys) == [keys[1], keys[2], keys[0]]
    assert rules.inter_purchase_days(4.0) == pytest.approx(91.25)


def test_segment_mix_defaults_to_the_content_mix():
    own = ContentMix(content=0.2, service=0.2, selling=0.6)
    st = StrategyParams(winback_mix=own)
    assert st.segment_mix(Segment.WINBACK) == own
    assert st.segment_mix(Segment.WELCOME) == st.content_mix
    assert st.segment_mix(Segment.BIRTHDAY) == st.content_mix


def test_winback_window_must_not_end_before_it_starts():
    with pytest.raises(ValidationError, match="winback_until must be at least winback_after"):
        StrategyParams(winback_after=2.0, winback_until=1.0)


def test_birthdays_only_when_a_strategy_uses_them():
    """No brand touches on birthdays (every shipped scenario but lifecycle_guides): no
    birthday is drawn; lifecycle_guides draws them on 0..364; the two engines alike."""
    off = MarketModel(load_scenario("beauty_guides", {"run.consumers": 300}), 1)
    assert (off.birthdays == -1).all()
    on = load_scenario("lifecycle_guides", {"run.consumers": 300})
    ref = MarketModel(on, 1)
    assert ref.birthdays.min() >= 0 and ref.birthdays.max() < 365
    assert np.unique(ref.birthdays).size > 150
    from sim.fast import FastModel

    assert np.array_equal(FastModel(on, 1).W.birthday, ref.birthdays)
    assert not population.wants_birthdays([StrategyParams(birthday_days=7)])  # random


def test_report_counts_lifecycle_touches_by_segment():
    """The run report names each brand's lifecycle touches by segment (the tag), and says
    nothing where the mechanism is off."""
    from sim import run
    from sim.report import lifecycle_notices

    small = {"run.consumers": 600, "run.days": 200}
    on = run(load_scenario("lifecycle_guides", small), 1)
    (notice,) = lifecycle_notices(on.ledger)
    sent = int(sum(on.ledger[f"lifecycle_{s}"].sum() for s in ("welcome", "winback", "birthday")))
    assert f"sent {sent:,} lifecycle touches" in notice and "win-back" in notice
    assert lifecycle_notices(run(load_scenario("beauty_guides", small), 1).ledger) == []
