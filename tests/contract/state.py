"""The state a contract test puts consumers in, engine-independent, and how two engines'
resulting states are compared.

A `Person` is a consumer's traits and, per brand, a `Holding` (its funnel state, orders,
source, cohort and, if a member, its `Member`ship). Codes are the shared vocabulary
(`sim.vocab`). Every consumer has a daily need probability of 0 here: the next need day is
drawn differently by the two engines (the reference engine with Generator.geometric, the
fast engine by its skip rule on one uniform), so a test keeps that draw out of the event;
the latent need (what a pushed offer converts) reads the need *rate*, which is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.ledger import COLUMNS
from sim.rules import NO_LIFECYCLE_TOUCH
from sim.vocab import MemberChannel, Source, State

LONG_AGO = -(10**6)


@dataclass
class Member:
    """A membership of one brand's private domain."""

    channel: MemberChannel = MemberChannel.GROUP
    engagement: float = 0.4
    fatigue: float = 0.0
    harvest: float = 0.0
    updated: int = 4
    muted: bool = False
    reluctant: bool = False
    guide: int | None = None  # the brand's guide by position; None: no guide
    referrals: int = 0
    lifecycle_day: int = NO_LIFECYCLE_TOUCH  # lifecycle operations: the last such touch


@dataclass
class Holding:
    """A consumer's standing with one brand."""

    state: State = State.UNAWARE
    purchases: int = 0
    spend: float = 0.0
    source: Source | None = None
    acquired: int = -1
    last_purchase: int = LONG_AGO
    cohort_day: int | None = None
    annoyed: bool = False
    koc_reach: bool = False
    store_access: bool = True
    dropout: float = 0.2
    habit: float = 0.0  # habit of ordering in the brand's own shop, as of habit_day
    habit_day: int = 0
    member: Member | None = None


@dataclass
class Person:
    """A consumer's traits and its holdings by brand index (absent: unaware)."""

    alpha: float = 1.0
    trust: float = 0.7
    tolerance: float = 6.0
    slots: int = 3
    hunter: bool = False
    need_rates: tuple[float, ...] = (0.03, 0.05)  # per category, per day
    birthday: int = -1  # lifecycle operations: day of the year, −1 none
    holdings: dict[int, Holding] = field(default_factory=dict)

    def holding(self, b: int) -> Holding:
        return self.holdings.get(b, Holding())


def customer(
    purchases: int = 1, spend: float = 180.0, source: Source = Source.ADS, **kw
) -> Holding:
    """A customer bought before (acquired long ago, no open cohort)."""
    return Holding(
        state=State.CUSTOMER,
        purchases=purchases,
        spend=spend,
        source=source,
        acquired=LONG_AGO,
        last_purchase=3,
        **kw,
    )


def member(purchases: int = 1, spend: float = 180.0, **kw) -> Holding:
    """A member (of `Member(**kw)`) who has bought `purchases` times."""
    m = Member(**kw)
    if purchases == 0:
        return Holding(state=State.MEMBER, source=Source.REFERRAL, member=m)
    return Holding(
        state=State.MEMBER,
        purchases=purchases,
        spend=spend,
        source=Source.STORE,
        acquired=LONG_AGO,
        last_purchase=3,
        member=m,
    )


MONEY = frozenset(name for name, doc in COLUMNS.items() if doc.startswith("yuan"))
"""Ledger columns in yuan, compared to float tolerance; every other column is a count (or
impressions), compared exactly."""

RTOL, ATOL = 1e-5, 1e-6
"""Float tolerance: the fast engine keeps per-consumer floats (engagement, fatigue,
harvest, spend, traits) in float32."""


def assert_same(ref: dict[str, Any], fast: dict[str, Any], what: str = "") -> None:
    """Two snapshots agree: the same keys; ints, bools and tuples (of ints) exactly; floats
    and lists of floats to RTOL/ATOL; ledger columns exactly unless in yuan. Reports every
    difference at once."""
    problems = []
    if ref.keys() != fast.keys():
        problems.append(f"keys differ: {sorted(ref.keys() ^ fast.keys())}")
    for key in sorted(ref.keys() & fast.keys()):
        r, f = ref[key], fast[key]
        if key.startswith("ledger."):
            column = key.split(".")[1]
            close = (
                np.allclose(r, f, rtol=RTOL, atol=ATOL)
                if column in MONEY
                else np.array_equal(np.asarray(r), np.asarray(f))
            )
        elif isinstance(r, float) or isinstance(f, float):
            close = r is not None and f is not None and np.isclose(r, f, rtol=RTOL, atol=ATOL)
        elif isinstance(r, list):  # floats (guides' skills, a cohort's value by horizon)
            close = len(r) == len(f) and np.allclose(r, f, rtol=RTOL, atol=ATOL)
        else:
            close = r == f
        if not close:
            problems.append(f"{key}: reference {r!r} != fast {f!r}")
    assert not problems, f"{what}\n  " + "\n  ".join(problems)
