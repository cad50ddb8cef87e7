"""What an engine shows of its market through the engine protocol (`sim.protocol`): frozen
snapshots of a brand and of a consumer, and the rule of a strategy change (which levers
re-staff a brand).

Both engines build these from their own state (`MarketModel` from its agents, `FastModel`
from its arrays), so a reader — the workshop's game and live page — never reaches into an
engine. A snapshot is a copy: changing it changes nothing in the market, and taking one
draws no random number and fades nothing in place.

This module imports only the parameter models and the vocabulary, so both engines and the
protocol may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.params import StrategyParams
from sim.vocab import DistributorKind, MemberChannel, State

STAFFING_FIELDS = (
    "private_ops",
    "guides_per_store",
    "guide_skill_sd",
    "guide_capacity",
    "koc_count",
    "koc_kind",
    "koc_circle",
    "employee_distributors",
    "employee_circle",
)
"""Strategy fields that change who works for a brand (or how many members a guide may
serve): changing one re-staffs the brand. Every other lever takes effect without touching
the staff, so a change of ad budget does not break the guides' 1:1 relationships."""


def restaffs(old: StrategyParams, new: StrategyParams) -> bool:
    """Whether moving from strategy `old` to `new` changes a staffing field."""
    return any(getattr(old, f) != getattr(new, f) for f in STAFFING_FIELDS)


@dataclass(frozen=True, slots=True)
class GuideSnapshot:
    """One guide of a brand: the store it works in, its skill, the members it serves
    (consumer indices, ascending; muted members included: they take room)."""

    store: int
    skill: float
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DistributorSnapshot:
    """A KOC, small-B node or employee distributor: who it is (the consumer at the centre
    of its circle) and the consumers its posts may reach."""

    kind: DistributorKind
    centre: int
    circle: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BrandSnapshot:
    """A brand as it stands at the start of day `today`: its strategy (a copy), since when
    it runs it, its stores, guides and distributors, and the fake members coupon hunters
    registered."""

    index: int
    name: str
    category: str
    strategy: StrategyParams
    strategy_since: int
    stores: int
    guides: tuple[GuideSnapshot, ...]
    distributors: tuple[DistributorSnapshot, ...]
    fake_members: int

    @property
    def private_ops(self) -> bool:
        return self.strategy.private_ops


@dataclass(frozen=True, slots=True)
class MembershipSnapshot:
    """A consumer's place in one brand's private domain. Engagement and fatigue are faded
    to the snapshot's day (the engine's own state is not touched). `guide` is the guide's
    position among the brand's guides (`BrandSnapshot.guides`), or None."""

    channel: MemberChannel
    joined: int
    engagement: float
    fatigue: float
    muted: bool
    reluctant: bool
    guide: int | None
    referrals: int


@dataclass(frozen=True, slots=True)
class ConsumerBrandSnapshot:
    """A consumer towards one brand: funnel state, orders and spend so far, the day of the
    last order (None if never; negative for purchases before the run), the membership."""

    state: State
    purchases: int
    spend: float
    last_purchase: int | None
    membership: MembershipSnapshot | None


@dataclass(frozen=True, slots=True)
class ConsumerSnapshot:
    """One consumer: friends in the network, coupon hunter or not, and per brand (in the
    engine's brand order) where it stands."""

    index: int
    friends: int
    hunter: bool
    brands: tuple[ConsumerBrandSnapshot, ...]
