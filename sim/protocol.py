"""The engine protocol: what the runner, the experiments and the workshop may ask of a
market engine, whichever it is — the Mesa reference engine (`sim.model.MarketModel`) or the
fast engine (`sim.fast.FastModel`) — and `build_engine`, the one place an engine is chosen.

An engine steps one day at a time (`step`) or runs its horizon (`run`), keeps its flows and
stocks in a `sim.ledger.Ledger`, takes a new strategy for a brand between days
(`set_strategy`: the one path of a strategy change, for the workshop and the strategy
review alike), records individual events on request (`record_events`, `sim.events`) and
shows its market as snapshots (`sim.snapshots`) and read-only
population arrays. Nothing else of an engine is public to its readers.

With the same seed the two engines draw the day-0 market from the same streams
(`sim.streams`: Mesa seeds itself from a stream of its own, need rates are drawn per
category), so their day-0 snapshots agree, the network included (floats to the fast
engine's float32). Within a day they draw each phase from the same stream but consume it in
their own order (the reference engine shuffles some lists the fast engine walks in index
order), so after some days they agree on the invariants, not the values
(tests/test_protocol.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from sim.ledger import Ledger
from sim.network import Network
from sim.params import PlatformParams, Scenario, StrategyParams
from sim.snapshots import BrandSnapshot, ConsumerSnapshot
from sim.streams import RunStreams

ENGINES = ("fast", "agents")
"""fast: arrays and compiled kernels (sim.fast, the runner's default); agents: the Mesa
reference engine (sim.model)."""


@runtime_checkable
class Engine(Protocol):
    """A market engine. Attributes are read-only for callers; arrays returned are
    read-only views or copies (writing to them raises), valid until the next `step`.

    One thread at a time per model: a model is stepped, read and changed by one thread at a
    time (the workshop's sessions hold a lock; `siyu run --threads` gives each replicate its
    own model). The fast engine's compiled day counts references to the model's arrays
    without atomic instructions (`sim.fast.jit.local_refcounts`), so a second thread using
    the same model meanwhile is not only a race on its numbers but on its memory, and the
    fast engine refuses such a call with an error while another thread is inside one.
    Separate models run on separate threads at once: the compiled day releases the
    interpreter lock."""

    today: int
    """Days stepped so far: the day the next `step` simulates."""
    days: int
    """The scenario's horizon (the ledger's length)."""
    n_consumers: int
    scenario: Scenario
    """The scenario the market runs now (its platform as `set_platform` last left it)."""
    ledger: Ledger
    network: Network

    @property
    def brand_names(self) -> list[str]:
        """The brands, in index order (the `b` of every method)."""
        ...

    def step(self) -> None:
        """Simulate day `today` and close it in the ledger."""
        ...

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Step to the horizon, calling `progress(today)` now and then."""
        ...

    def record_events(self) -> np.ndarray:
        """From now on, record every order, join, mute, leave and lapse as a raw row of
        `sim.events`; returns bool [brand, consumer]: who has bought from each brand so
        far (the summary's ``customer_at_start`` when called before the first day)."""
        ...

    def take_events(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw event rows recorded since the last call: int32 [k, sim.events.WIDTH]
        and float64 [k] values, in the order the events happened (whole days, when called
        between days or from `run`'s `progress`)."""
        ...

    def set_strategy(
        self, brand: int, strategy: StrategyParams, restaff: bool | None = None
    ) -> None:
        """Give a brand a new strategy from the next day on. `restaff` None: re-staff
        (guides, KOCs, distributors) only if a staffing field changed
        (`sim.snapshots.restaffs`), keeping the strategy's start day otherwise; True: always
        re-staff and restart the strategy's clock (adopting a peer's strategy)."""
        ...

    def set_platform(self, platform: PlatformParams) -> None:
        """Give the public platform new terms from the next day on (CPM, take rate, buyer
        protection, ad response: every field of `platform`), e.g. a facilitator's CPM spike;
        the run's state (adstock, funnel, streams) carries on."""
        ...

    def strategy(self, brand: int) -> StrategyParams:
        """A copy of the brand's current strategy."""
        ...

    def brand_snapshot(self, brand: int) -> BrandSnapshot: ...

    def consumer_snapshot(self, consumer: int) -> ConsumerSnapshot: ...

    def states(self, brand: int) -> np.ndarray:
        """int8 [n]: every consumer's funnel state (`sim.vocab.State`) towards the brand."""
        ...

    def member_channels(self, brand: int) -> np.ndarray:
        """int8 [n]: each consumer's `sim.vocab.MemberChannel` in the brand's private
        domain, −1 for a non-member."""
        ...

    def member_guides(self, brand: int) -> np.ndarray:
        """int32 [n]: the position (among the brand's guides) of each member's guide, −1
        for a member without one and for a non-member."""
        ...


def engine_class(name: str) -> type:
    """The class of a named engine (imported only when asked for: the fast engine
    compiles its kernels on first import)."""
    if name == "fast":
        from sim.fast.engine import FastModel

        return FastModel
    if name == "agents":
        from sim.model import MarketModel

        return MarketModel
    raise ValueError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")


def build_engine(
    name: str, scenario: Scenario, rng: RunStreams | int | np.random.Generator | None = None
) -> Engine:
    """A fresh market of `scenario` on the named engine, drawn from the run's streams:
    `rng` is a `sim.streams.RunStreams`, a seed, or a Generator whose next draw becomes the
    seed (`sim.streams.as_streams`)."""
    return engine_class(name)(scenario, rng=rng)
