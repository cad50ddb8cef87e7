"""The model's shared vocabulary: funnel states, order channels, member channels, sources,
what prompted an order, touch kinds, distributor kinds and the LTV horizons.

Each is an `IntEnum`, so both engines use the same names: the reference engine indexes
arrays with them, and Numba compiles a member into the fast engine's kernels as a constant.
A member's position is its code in every array; its lower-case name is the word used in
scenario files and ledger columns (`Channel.PLATFORM` -> ``gmv_platform``), so the
string tuples below are derived from the enums, never written twice.

This module imports nothing from `sim`: every other module may import it.
"""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    """Funnel state of a consumer towards one brand; the states partition the population."""

    UNAWARE = 0
    AWARE = 1
    CUSTOMER = 2
    MEMBER = 3
    LAPSED = 4


STATE_NAMES = ("unaware", "aware", "customers", "members", "lapsed")
"""The ledger's name of each funnel state (``stock_<name>``), in `State` order."""


class Channel(IntEnum):
    """Where an order is placed: the public platform, the brand's own shop, a store."""

    PLATFORM = 0
    PRIVATE = 1
    STORE = 2


class MemberChannel(IntEnum):
    """The private-domain channel a member sits in."""

    GUIDE = 0
    GROUP = 1
    MINI_PROGRAM = 2
    OFFICIAL_ACCOUNT = 3


class Source(IntEnum):
    """Where a consumer first heard of a brand (credited when it first buys), and how a
    consumer entered a private domain: the customer sources, plus `PACKAGE_CARD`, a member
    source only."""

    ADS = 0
    STORE = 1
    REFERRAL = 2
    KOC = 3
    DISTRIBUTOR = 4
    ORGANIC = 5
    PACKAGE_CARD = 6


class Prompt(IntEnum):
    """What prompted an order: nothing (a need arose), a trial on hearing of the brand, a
    guide's selling message, a broadcast's selling message, or a distributor's link."""

    NONE = 0
    TRIAL = 1
    GUIDE = 2
    PUSH = 3
    KOC = 4
    SMALL_B = 5
    EMPLOYEE = 6


class Touch(IntEnum):
    """Kinds of private-domain message, in the order of a strategy's content mix."""

    CONTENT = 0
    SERVICE = 1
    SELLING = 2


class DistributorKind(IntEnum):
    """A brand's distributors: KOCs, small-B nodes (both recruited by `koc_count`) and
    employee distributors."""

    KOC = 0
    SMALL_B = 1
    EMPLOYEE = 2


class Segment(IntEnum):
    """Lifecycle operations: the lifecycle segment (the tag) a member is due a touch for,
    in the order of priority a guide serves them (`sim.rules.lifecycle_segment`): a new
    member's welcome, a win-back of one whose repurchase is overdue, a birthday touch.
    `NONE`: no lifecycle touch is due."""

    NONE = 0
    WELCOME = 1
    WINBACK = 2
    BIRTHDAY = 3


COHORT_HORIZONS = (90, 365)
"""Days after acquisition over which customer value (LTV) is booked, in horizon order."""


def words(enum: type[IntEnum]) -> tuple[str, ...]:
    """The lower-case names of an enum's members, in code order."""
    return tuple(member.name.lower() for member in enum)


CHANNELS = words(Channel)
MEMBER_CHANNELS = words(MemberChannel)
SOURCES_CUSTOMER = tuple(s for s in words(Source) if s != "package_card")
SOURCES_MEMBER = ("package_card", "store", "referral", "koc", "distributor")
"""Member sources in ledger-column order (``new_members_<source>``)."""
TOUCH_KINDS = words(Touch)
DISTRIBUTOR_KINDS = words(DistributorKind)
PROMPTS = words(Prompt)
LIFECYCLE_SEGMENTS = tuple(s for s in words(Segment) if s != "none")
"""Lifecycle operations: the segments a lifecycle touch goes to, in `Segment` code order
from 1 (ledger columns ``lifecycle_<segment>``)."""
