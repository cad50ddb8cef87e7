"""The run's random streams: one seed, many named generators (common random numbers).

Every draw of a run comes from a stream named by its purpose, so that two runs with the same
seed — a scenario and its counterfactual twin — draw the same numbers wherever they have not
diverged. A difference that arises in one phase on one day (a guide the twin does not have,
a member who buys where the twin's consumer does not) changes only that phase's stream on
that day, never the draws of other phases, other brands or later days. This is the device of
Starsim's per-purpose streams (Kerr et al. 2024) and of common random numbers in simulation
experiments (Law 2015, ch. 11): paired differences then have a far smaller variance.

Two kinds of stream, both keyed by fixed numbers (never by a position in a list that a
scenario change could move):

- **set-up streams** (`Purpose`): one `numpy.random.Generator` each, from
  `SeedSequence(seed, spawn_key=(SETUP, purpose, index))`, where index is a brand's or a
  category's position in the scenario (0 where none). `RunStreams.setup` hands out the same
  Generator on every call, so re-staffing a brand after a strategy change continues that
  brand's staffing stream.
- **daily streams** (`Phase`): a stream per phase of the day, per day and per sub-key (the
  brand, or for a need the consumer and category). Its PCG64 state is a hash
  (`stream_words`) of the phase's key words — `SeedSequence(seed, spawn_key=(DAILY,
  phase)).generate_state(4)` — the day and the sub-key. Loading a stream is a few
  multiplications, so both engines can switch streams per phase, per brand and per consumer
  at no real cost: the reference engine sets a Generator's state through NumPy's API
  (`RunStreams.daily`), the fast engine writes the same state words into its one Generator's
  memory from compiled code (`sim.fast.kernels`; `state_views` gives it that memory, and
  tests/test_streams.py checks both ways draw the same numbers).

The table of purposes and phases, with the keys, is docs/ODD.md's section on randomness.
"""

from __future__ import annotations

import ctypes
from enum import IntEnum

import numpy as np
from numba import njit

from sim import params

SETUP, DAILY = 0, 1
"""First spawn-key word of a set-up and of a daily stream."""


class Purpose(IntEnum):
    """Set-up streams (key: purpose, index). Values are keys: never renumber them."""

    MESA = 1
    """The reference engine's `mesa.Model` (one number seeds Mesa's stdlib `random`)."""
    NETWORK = 2
    """The social network."""
    STORES = 3
    """A brand's store catchment (index: brand)."""
    NEED_RATES = 4
    """Consumers' need rates in a category (index: the category's position in the scenario)."""
    TRAITS = 5
    """Consumers' price sensitivity, trust, attention slots, hunters, tolerance, dropout."""
    FUNNEL = 6
    """A brand's day-0 funnel: who is aware, customer, member (index: brand)."""
    NEED_CLOCKS = 7
    """Day-0 need clocks (the first due day of every known need)."""
    STAFFING = 8
    """A brand's guides' skills and distributors, at set-up and at every re-staffing
    (index: brand)."""
    EVENTS = 9
    """Single model events applied between days (`FastModel.apply_event`)."""
    CHANNEL_OWNERS = 10
    """Organisation and channel conflict: which consumers' store relationship a franchisee
    owns and keeps (index: brand; drawn only for a brand with stores and a franchise share
    above 0)."""
    # -- order values and baskets (issue 12, item 5)
    ORDER_VALUES = 14
    """Consumers' mean order value in a category, relative to its price (index: the
    category's position in the scenario); drawn only where `order_value_cv` > 0."""
    PLATFORMS = 13
    """Each consumer's home public platform, drawn only when a scenario names several
    platforms (`[platforms]`; several public platforms)."""
    BIRTHDAYS = 15
    """Lifecycle operations: consumers' birthdays (day of the year), drawn only when a
    brand's strategy touches members on their birthday."""


class Phase(IntEnum):
    """Daily streams (key: phase; then day and sub-key), in the process order of a day
    (sim/model.py). Values are keys: never renumber them."""

    BRAND_ORDER = 1
    """The day's random order of brands."""
    ADS = 2
    """A brand's ad exposures (sub: brand)."""
    WORD_OF_MOUTH = 3
    """A brand's forgetting, organic awareness and word of mouth (sub: brand)."""
    STORE_TRAFFIC = 4
    """A brand's store visits, store sales and store invitations (sub: brand)."""
    DISTRIBUTOR_ORDER = 5
    """The day's random order of all distributors."""
    DISTRIBUTORS = 6
    """A brand's distributors' posts (sub: brand; continued across its distributors)."""
    GUIDE_ORDER = 7
    """The day's random order of all guides."""
    GUIDES = 8
    """A brand's guides' 1:1 messages (sub: brand; continued across its guides)."""
    BROADCAST = 9
    """A brand's broadcast to its members (sub: brand)."""
    MEMBERS_DAY = 10
    """A brand's members' private-domain day (sub: brand)."""
    NEED_ORDER = 11
    """The reference engine's random order of the day's due needs."""
    NEEDS = 12
    """One consumer's need falling due: choice, purchase, the next due day
    (sub: `need_sub(consumer, category)`)."""
    REVIEW = 13
    """The strategy review at the end of a review day."""
    # -- order values and baskets (issue 12, item 5)
    ORDER_VALUE = 18
    """One order's value around its buyer's mean (sub: `order_sub(consumer, brand,
    orders so far)`); drawn only where `order_value_cv_order` > 0, inside whichever phase
    places the order, which then continues its own stream."""
    DEMAND_EXPANSION = 20
    """Demand expansion: a member's need clock redrawn at the day's end when its need rate
    changed with a join, a mute, a leave or the brand's lever (sub:
    `need_sub(consumer, category)`; drawn only where `member_need_lift` > 0)."""
    REVIEWS = 15
    """A brand's platform reviews of the day's platform orders, drawn at the end of the day
    (sub: brand; private lifts public, ODD 7.21)."""
    PLATFORM_BAN = 17
    """Whether a package card in a platform parcel is blocked (several public platforms):
    one uniform per card, `order_uniform` of (day, `order_sub(consumer, brand, orders)`),
    drawn only on a platform with ban risk."""
    FESTIVAL = 16
    """The calendar's festival days: a consumer's extra need in a category (sub:
    `need_sub(consumer, category)`) and a brand's festival post (sub:
    `festival_post_sub(brand)`)."""
    LIFECYCLE = 19
    """Lifecycle operations: a brand's guides' lifecycle touches (welcome, win-back,
    birthday): their kinds and what the touches set off (sub: brand; continued across its
    guides)."""


MAX_CATEGORIES = params.MAX_CATEGORIES
"""Sub-keys of needs set aside per consumer: a scenario has at most this many categories
(`sim.params.Scenario` refuses more), so two needs never share a stream."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SUB = np.uint64(0xD1B54A32D192ED03)


@njit(cache=True)
def mix64(z):
    """SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijection of uint64 whose every
    output bit depends on every input bit."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_words(key, day, sub, out):
    """Write into `out` (uint64[4]) the PCG64 state of a daily stream: (state low, state
    high, increment low, increment high), hashed from the phase's key words `key`
    (uint64[4]), the day and the sub-key. The increment is odd, as PCG64 requires. The one
    definition both engines load streams from (the fast engine compiles it in)."""
    t = mix64(np.uint64(day) + _GOLDEN)
    t = mix64(t ^ (np.uint64(sub) * _SUB + _GOLDEN))
    for k in range(4):
        out[k] = mix64(key[k] ^ (t + np.uint64(k + 1) * _GOLDEN))
    out[2] |= np.uint64(1)


@njit(cache=True)
def card_sub(consumer, brand, orders):
    """The sub-key of the package card in one order of a consumer with a brand (its
    `orders`-th): a hash of the three, so two orders never share a key (several public
    platforms' ban draws)."""
    t = mix64(np.uint64(consumer) * _SUB + _GOLDEN)
    t = mix64(t ^ (np.uint64(brand) * _MIX1 + _GOLDEN))
    return mix64(t ^ (np.uint64(orders) * _MIX2 + _GOLDEN))


@njit(cache=True)
def order_uniform(key, day, sub, out):
    """One uniform in [0, 1) from daily stream (key, day, sub) without a Generator: the top
    53 bits of the first word of its state (`stream_words`, into `out`). Both engines call
    this one function where a draw sits inside an order, whatever stream the order itself
    draws from (several public platforms' ban draws)."""
    stream_words(key, day, sub, out)
    return np.float64(out[0] >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def need_sub(consumer: int, category: int) -> int:
    """The sub-key of a need stream: a consumer and a category's position in the scenario."""
    return consumer * MAX_CATEGORIES + category


ORDER_SUB_BRANDS = 1 << 20
"""Brands set aside per consumer in an order's sub-key (`order_sub`)."""
ORDER_SUB_ORDERS = 1 << 8
"""Orders of one consumer and brand in one day an order's sub-key tells apart."""


@njit(cache=True)
def order_sub(consumer, brand, orders):
    """The sub-key of an order's value stream (`Phase.ORDER_VALUE`): the consumer, the
    brand and how many orders the consumer had placed with it before (modulo 256: two
    orders of one consumer and brand on one day never share a stream). Below 2⁶⁰ for any
    consumer index below 2³²."""
    return (np.uint64(consumer) * np.uint64(ORDER_SUB_BRANDS) + np.uint64(brand)) * np.uint64(
        ORDER_SUB_ORDERS
    ) + np.uint64(orders % ORDER_SUB_ORDERS)


FESTIVAL_POST_SUB = 1 << 62
"""First sub-key of the brands' festival posts in `Phase.FESTIVAL`: above every need's
sub-key (at most 2**31 consumers x `MAX_CATEGORIES`), so a post never shares a stream with
a need."""


def festival_post_sub(brand: int) -> int:
    """The sub-key of a brand's festival post in `Phase.FESTIVAL`."""
    return FESTIVAL_POST_SUB + brand


class RunStreams:
    """A run's named random streams from one seed (`Purpose`, `Phase`)."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._setup: dict[tuple[int, int], np.random.Generator] = {}
        n = max(Phase) + 1
        self.keys = np.zeros((n, 4), dtype=np.uint64)
        """Key words of each daily phase (row = `Phase` value; row 0 unused)."""
        for p in Phase:
            ss = np.random.SeedSequence(self.seed, spawn_key=(DAILY, int(p)))
            self.keys[p] = ss.generate_state(4, np.uint64)
        self._words = np.zeros(4, dtype=np.uint64)

    def setup(self, purpose: Purpose, index: int = 0) -> np.random.Generator:
        """The set-up stream of a purpose (and brand or category index): the same Generator
        on every call, so its draws continue where the last caller left off."""
        key = (int(purpose), int(index))
        gen = self._setup.get(key)
        if gen is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(SETUP, *key))
            gen = self._setup[key] = np.random.default_rng(ss)
        return gen

    def daily(
        self, phase: Phase, day: int, sub: int = 0, gen: np.random.Generator | None = None
    ) -> np.random.Generator:
        """Daily stream (phase, day, sub) from its first draw: `gen` (a PCG64 Generator)
        set to the stream's state and returned, or a new Generator."""
        stream_words(self.keys[phase], day, sub, self._words)
        w = [int(x) for x in self._words]
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(0))
        gen.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": (w[1] << 64) | w[0], "inc": (w[3] << 64) | w[2]},
            "has_uint32": 0,
            "uinteger": 0,
        }
        return gen


def as_streams(source: RunStreams | int | np.random.Generator | None) -> RunStreams:
    """A run's streams from what an engine was given: streams as they are; a seed; a
    Generator (its next draw becomes the seed, for callers that pass one); None (a seed from
    the operating system's entropy)."""
    if isinstance(source, RunStreams):
        return source
    if isinstance(source, np.random.Generator):
        return RunStreams(int(source.integers(0, 2**63)))
    if source is None:
        return RunStreams(int(np.random.SeedSequence().entropy) % 2**63)
    return RunStreams(int(source))


def state_views(gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Views of a PCG64 Generator's state memory, for compiled code that loads streams:
    uint64[4] (state low, state high, increment low, increment high) and uint32[4] (whose
    items 2 and 3 are the buffered-uint32 flag and value). Valid while `gen` lives.

    The layout is NumPy's `pcg64_state` with native 128-bit integers; it is checked here
    against NumPy's own state API, and a platform that lays it out otherwise is refused."""
    bg = gen.bit_generator
    if not isinstance(bg, np.random.PCG64):
        raise TypeError("streams are loaded into PCG64 generators only")
    address = bg.ctypes.state_address
    inner = ctypes.c_void_p.from_address(address).value
    words = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(inner))
    flags = np.ctypeslib.as_array((ctypes.c_uint32 * 4).from_address(address))
    saved = bg.state
    bg.state = {
        "bit_generator": "PCG64",
        "state": {"state": (11 << 64) | 13, "inc": (17 << 64) | 19},
        "has_uint32": 1,
        "uinteger": 23,
    }
    ok = words.tolist() == [13, 11, 19, 17] and flags[2:].tolist() == [1, 23]
    bg.state = saved
    if not ok:
        raise RuntimeError("this NumPy lays out PCG64's state in an unexpected way")
    return words, flags
