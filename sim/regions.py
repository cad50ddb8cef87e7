"""A large market run as regions, one thread each: both cores for one run.

A run's day is sequential: its effects are shared and depend on their order (a guide's
capacity, a consumer's need, the ledger's sums), so one market's day runs on one core
(`sim.fast`). A national market is regional, though: a store's guides serve the consumers
near it, and a region's consumers visit its own stores. `run_regions` runs a scenario of N
consumers as R regions of N/R (sizes differing by at most one), each the same market per
consumer (`sim.scaling.scale_market`: stores and hence guides, store visits, budgets,
tooling, KOC and employee nodes and the platform's reference ad demand scaled to the
region's share; fractional staff counts drawn without bias, `sim.staffing.draw_count`), each
its own model on its own thread (the fast engine's day releases the interpreter lock), and
adds their ledgers into the market's (`merge_ledgers`); their events, when recorded, go into
the market's files in a fixed order, region r's consumers numbered after region r − 1's
(`run_regions`).

What regions change, on purpose: no tie, store visit, guide or KOC circle crosses a region
(each region draws its own network of the same kind and degrees, so a consumer keeps as many
friends, all in its region), and each region's brands review their strategies on their own
region's ledger (`market.review_days`). Everything else is per consumer and holds at any
size (`sim.scaling`): the platform's price of traffic, a rating built from reviews per
consumer, hazards from shares. So the regional market is a different draw of the same
market, not the same run: its KPIs agree with the whole market's within the runs' own
spread (tests/test_regions.py measures it), not to the byte.

Randomness: region r draws from the streams of its own seed, `region_seed(seed, r)` (the
run's seed and r through NumPy's SeedSequence), so the same seed and R give the same bytes
whatever the threads' timing, and a scenario and its counterfactual twin share every
region's draws (common random numbers). R = 1 is the market whole: `sim.runner.run` does not
come here, and its bytes are the contract's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Protocol

import numpy as np
import pandas as pd

from sim.events import CONSUMER
from sim.ledger import COLUMNS
from sim.params import Scenario
from sim.protocol import build_engine
from sim.scaling import scale_market
from sim.scenario import ScenarioError
from sim.streams import RunStreams

SOURCE = "--regions"
"""The source named in errors about a regional run (the option that asks for one)."""

REGION_SPAWN = 0x5245
"""The first spawn-key word of a region's seed (`region_seed`): apart from the run's own
set-up and daily streams (`sim.streams.SETUP`, `DAILY`), which spawn from the seed itself."""

MIN_REGION = 100
"""The fewest consumers a region may hold: below it a region's staff and stores are mostly
drawn as none or one (`sim.scaling.thin_staff`) and its network barely has room for ties."""

MAXIMUM = "max"
WEIGHTED = "impressions-weighted mean"
NOT_ADDED: dict[str, str] = {
    "cpm": WEIGHTED,
    "budget_bound": MAXIMUM,
    "private_ops": MAXIMUM,
}
"""Ledger columns that are not counts or money and so are not added across regions: the
day's price of traffic (the regions' prices weighted by the impressions each bought; their
mean on a day without impressions) and the two day flags (set if set in any region). Every
other column, flows and stocks alike, is a count or yuan of the region's consumers and
adds."""


def region_sizes(consumers: int, regions: int) -> list[int]:
    """The regions' populations: `consumers` split into `regions` parts differing by at most
    one, the larger first."""
    base, extra = divmod(consumers, regions)
    return [base + (r < extra) for r in range(regions)]


def region_seed(seed: int, region: int) -> int:
    """The seed of region `region`'s streams in a run of seed `seed` (below 2**63)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(REGION_SPAWN, int(region)))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def check_regions(scenario: Scenario, regions: object) -> int:
    """`regions` as a count the scenario can be split into, or one `ScenarioError` naming
    `--regions`: a whole number from 1, leaving each region at least MIN_REGION consumers."""
    if isinstance(regions, bool) or not isinstance(regions, int | np.integer):
        raise ScenarioError(SOURCE, None, f"must be a whole number (got {regions!r})")
    regions = int(regions)
    if regions < 1:
        raise ScenarioError(SOURCE, None, f"must be at least 1 (got {regions})")
    n = scenario.run.consumers
    if regions > 1 and n // regions < MIN_REGION:
        raise ScenarioError(
            SOURCE,
            None,
            f"{regions} regions of {n:,} consumers leave fewer than {MIN_REGION} in a region "
            f"(at most {max(n // MIN_REGION, 1)})",
        )
    return regions


def region_scenarios(scenario: Scenario, regions: int) -> list[Scenario]:
    """The scenario of each region: the market at the region's population, the same per
    consumer (`scale_market`, which names `--regions` in its errors)."""
    sizes = region_sizes(scenario.run.consumers, check_regions(scenario, regions))
    cache: dict[int, Scenario] = {}
    for size in set(sizes):
        cache[size] = scale_market(scenario, size, SOURCE)[0]
    return [cache[size] for size in sizes]


def merge_ledgers(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The market's ledger from its regions' (each one row per day × brand, in the same
    order): every column added in region order, but those of NOT_ADDED, merged as it says
    (`cpm` weighted by impressions, the flags their maximum). One frame is returned as it
    is."""
    first = frames[0]
    if len(frames) == 1:
        return first
    for f in frames[1:]:
        if len(f) != len(first) or not f["day"].equals(first["day"]):
            raise ValueError("regions' ledgers differ in their days")
    columns: dict[str, object] = {}
    for name in first.columns:
        if name not in COLUMNS:  # the keys: day, brand, category
            columns[name] = first[name]
            continue
        values = np.array([f[name].to_numpy() for f in frames])
        how = NOT_ADDED.get(name)
        if how is None:
            total = values[0].copy()
            for v in values[1:]:  # in region order, one region at a time
                total += v
            columns[name] = total
        elif how == MAXIMUM:
            columns[name] = values.max(axis=0)
        else:  # WEIGHTED: by the impressions each region bought
            imps = np.array([f["impressions"].to_numpy() for f in frames])
            bought = imps.sum(axis=0)
            weighted = (values * imps).sum(axis=0) / np.where(bought > 0, bought, 1.0)
            columns[name] = np.where(bought > 0, weighted, values.mean(axis=0))
    return pd.DataFrame(columns, index=first.index)  # built at once, not column by column


MAPPED_FROM = 1 << 20
"""Bytes from which glibc serves an allocation by a mapping of its own (`map_big_blocks`)."""
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def map_big_blocks() -> bool:
    """Have glibc serve every allocation of MAPPED_FROM bytes or more by a mapping of its own,
    given back to the system when freed (`mallopt(M_MMAP_THRESHOLD)`, which also stops glibc
    raising that threshold as big blocks are freed); whether it could (glibc only). A
    region's build frees tens of megabytes of temporaries that glibc's heap would otherwise
    keep and the next region's build does not reuse: two regions of 7,500,000 consumers
    (national_guides, a year) peaked at 2.50 GB, and at 2.40 GB so; the market whole, at
    2.43 GB. It holds for the rest of the process, whose large arrays are allocated once
    (benchmarks/bench_fast.py (d) and (e) "in 2 regions" measure the time with it)."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MAPPED_FROM))
    except (OSError, AttributeError):
        return False


class EventSink(Protocol):
    """Where a regional run hands its events (`sim.runner.Recording`): `start` once with the
    market's day-0 customers (bool [brand, consumer]) and days, then `add` each stretch's raw
    rows (`sim.events.WIDTH` int32 columns, consumers numbered in the market, and the
    values), in the order they are to be written."""

    def start(self, at_start: np.ndarray, days: int) -> None: ...

    def add(self, ints: np.ndarray, values: np.ndarray) -> None: ...


class _InTurn:
    """Hands the regions' stretches of events to an `EventSink` in a fixed order, whatever
    the threads' timing: stretch by stretch, the regions in order within each (every region
    steps the same days in the same stretches: the horizon and the review days are the
    market's). A region whose turn it is not waits, so the lead region is at most a stretch
    ahead and at most a stretch per region waits in memory; `stop` (another region failed,
    or the run was interrupted) ends the wait."""

    def __init__(self, sink: EventSink, offsets: list[int], stop: threading.Event) -> None:
        self.sink = sink
        self.offsets = offsets
        self.stop = stop
        self.turn = 0
        self.ready = threading.Condition()

    def hand_on(self, region: int, ints: np.ndarray, values: np.ndarray) -> None:
        """Region `region`'s next stretch, its consumers renumbered in the market."""
        ints[:, CONSUMER] += self.offsets[region]
        with self.ready:
            while self.turn != region:
                if self.stop.is_set():
                    raise _Stopped
                self.ready.wait(0.05)
            self.sink.add(ints, values)
            self.turn = (region + 1) % len(self.offsets)
            self.ready.notify_all()


class _Stopped(Exception):
    """Raised in a region's progress callback to end its run early, once another region
    failed or the run was interrupted (the day's compiled code stops between its chunks of
    days only)."""


def run_regions(
    scenario: Scenario,
    seed: int,
    engine: str,
    regions: int,
    progress: Callable[[int], None] | None = None,
    events: EventSink | None = None,
) -> pd.DataFrame:
    """Run `scenario` as `regions` regions, each on its own thread, and return the market's
    ledger (`merge_ledgers`). The regions are built one after another, here (a build uses
    both cores for its own streams already, and builds at once would add their peaks of
    memory; what each frees goes back to the system, `map_big_blocks`), then run at once.
    `progress(day)` is called with the day every region has reached, as it grows. When a
    region fails, or the wait is interrupted (Ctrl-C), the other regions stop at their next
    chunk of days; the first region's error is raised.

    With `events`, every region records its events and hands them on (`_InTurn`): region r's
    consumers are numbered after region r − 1's (as `region_sizes` orders them), and the
    rows come stretch of days by stretch, the regions in order within each, so the same seed
    and count write the same bytes."""
    parts = region_scenarios(scenario, regions)
    map_big_blocks()
    models = [
        build_engine(engine, part, RunStreams(region_seed(seed, r))) for r, part in enumerate(parts)
    ]
    reached = [0] * len(parts)
    shown = [0]
    lock = threading.Lock()
    stop = threading.Event()
    turns = None
    if events is not None:
        sizes = [p.run.consumers for p in parts]
        events.start(np.concatenate([m.record_events() for m in models], axis=1), scenario.run.days)
        turns = _InTurn(events, [sum(sizes[:r]) for r in range(len(sizes))], stop)

    def one(r: int) -> pd.DataFrame:
        def advance(day: int) -> None:
            if stop.is_set():
                raise _Stopped
            if turns is not None:
                turns.hand_on(r, *models[r].take_events())
            with lock:
                reached[r] = day
                low = min(reached)
                if progress is None or low <= shown[0]:
                    return
                shown[0] = low
            progress(low)

        try:
            model = models[r]
            model.run(advance)
            if turns is not None:  # any events after the last stretch: a turn of its own
                turns.hand_on(r, *model.take_events())
            return model.ledger.to_frame()
        except BaseException:
            stop.set()
            raise
        finally:
            models[r] = None  # its arrays go as soon as its ledger is out

    with ThreadPoolExecutor(len(parts), thread_name_prefix="siyu-region") as pool:
        futures = [pool.submit(one, r) for r in range(len(parts))]
        try:
            wait(futures)
        except BaseException:  # interrupted: the regions stop at their next chunk
            stop.set()
            raise
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None and not isinstance(error, _Stopped):
            raise error
    return merge_ledgers([f.result() for f in futures])
