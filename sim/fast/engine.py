"""`FastModel`: builds the fast engine's arrays from a Scenario, steps the compiled day
(`kernels.run_days`) and, between days, does what stays in Python: adaptive brands'
strategy reviews and re-staffing. Its ledger has the reference engine's schema.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from sim import calendar, population, rules
from sim.accounting import COHORT_GMV, COHORT_N, COHORT_PV, column
from sim.events import WIDTH
from sim.fast import aside, layout
from sim.fast import kernels as K
from sim.fast.bridge import (
    BRAND_FIELDS,
    CATEGORY_FIELDS,
    PER_BRAND_FIELDS,
    PLATFORM_FIELDS,
    POPULATION_FIELDS,
    STRATEGY_FIELDS,
    TOUCH_FIELDS,
    field_values,
    write_fields,
)
from sim.fast.events import apply_event
from sim.fast.layout import (
    Brands,
    Globals,
    World,
    as_struct,
    consumer_state,
)
from sim.ledger import Ledger
from sim.machine import usable_cores
from sim.network import build_network
from sim.params import (
    MEMBER_CHANNELS,
    PlatformParams,
    Scenario,
    StrategyParams,
    ad_split,
    platform_terms,
)
from sim.review import review_strategies
from sim.snapshots import (
    BrandSnapshot,
    ConsumerBrandSnapshot,
    ConsumerSnapshot,
    DistributorSnapshot,
    GuideSnapshot,
    MembershipSnapshot,
    restaffs,
)
from sim.staffing import draw_staff
from sim.streams import Phase, Purpose, RunStreams, as_streams, state_views
from sim.vocab import DistributorKind, MemberChannel, Segment, State

_CHUNK = 1 << 16
"""Consumers per NumPy call where set-up draws uniforms or applies a formula a chunk at a
time: the float64 temporaries stay in cache and are reused, instead of a fresh
consumer-sized array each."""


def _draw_below(rng: np.random.Generator, p: float, out: np.ndarray) -> None:
    """out[i] = (a uniform from rng) < p: the same draws and results as
    `rng.random(out.size) < p` (uniforms take one 64-bit word each, nothing is carried
    between calls), in chunks, so no consumer-sized float64 temporary is made."""
    for lo in range(0, out.size, _CHUNK):
        np.less(rng.random(min(_CHUNK, out.size - lo)), p, out=out[lo : lo + _CHUNK])


BUILD_THREADS: int | None = None
"""Threads that draw a large population's independent set-up streams at once
(`FastModel._consumer_tasks`); None: NUMBA_NUM_THREADS where the environment sets it (a
process held to that many threads, as benchmarks/bench_peer.py holds both simulators), else
the cores this process may use, at most 4. Each stream is its own Generator, drawn by one
thread in its own order, so the model is the same whatever the count
(tests/test_fast_build.py)."""

PARALLEL_FROM = 1 << 17
"""Populations below this many consumers are set up on one thread: their draws take less
than a thread pool costs to start."""


def build_threads(n: int) -> int:
    """Threads for setting up n consumers (`BUILD_THREADS`); 1 below `PARALLEL_FROM`."""
    if n < PARALLEL_FROM:
        return 1
    if BUILD_THREADS is not None:
        return max(1, int(BUILD_THREADS))
    held = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if held.isdigit() and int(held) > 0:
        return int(held)
    return max(1, min(usable_cores(), 4))


def _run_tasks(tasks: list[tuple[str, Callable[[], None]]], threads: int) -> dict[str, float]:
    """Run the (name, task) pairs, on `threads` threads (in the order given, on this thread,
    when 1); each task's own seconds by name. The first error a task raised is raised here,
    once every task has ended."""
    seconds: dict[str, float] = {}

    def timed(name: str, task: Callable[[], None]) -> None:
        t0 = time.perf_counter()
        task()
        seconds[name] = time.perf_counter() - t0

    if threads <= 1:
        for name, task in tasks:
            timed(name, task)
        return seconds
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="siyu-build") as pool:
        futures = [pool.submit(timed, name, task) for name, task in tasks]
    for future in futures:
        future.result()  # re-raises a task's error
    return {name: seconds[name] for name, _ in tasks}


_COHORT_COLUMNS = np.stack([COHORT_GMV, COHORT_PV, COHORT_N], axis=-1)
"""Ledger column of cohort bucket [horizon, source, gmv/pv/n] (`self._book`'s last axes)."""


def _one_thread(method: Callable) -> Callable:
    """A FastModel method that runs compiled code on the model's structs, or replaces them:
    refused, with a clear error, while another thread is inside one on the same model. The
    compiled code counts references to the model's arrays without atomic instructions
    (`sim.fast.jit.local_refcounts`), so two threads at once would corrupt memory, not only
    numbers (`sim.protocol.Engine`: one thread at a time per model). Best effort: it
    catches overlapping calls, it is not a lock."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        me = threading.get_ident()
        user = self.__dict__.get("_user")
        if user is not None and user != me:
            raise RuntimeError(
                f"this market is in use on another thread ({method.__name__} refused): a "
                "model is stepped, read and changed by one thread at a time"
            )
        self._user = me
        try:
            return method(self, *args, **kwargs)
        finally:
            self._user = user

    return guarded


class BuildClock:
    """Where a model's construction goes: `lap(phase)` at the end of each phase of
    `FastModel.__init__` adds the seconds since the previous lap to that phase. A clock read
    per phase; benchmarks/bench_build.py reads `seconds` (and subclasses it to sample memory
    at the same points)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        """Close `phase`: the time since the previous lap (or the clock's start) is its."""
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now


class FastModel:
    """The market of `sim.model.MarketModel`, over arrays. Same constructor and `run`.

    With `lean` (the default) the World arrays of a mechanism no brand of the run can use
    (`layout.UNUSED_WHEN_OFF`) hold no consumers until a strategy turns it on; `lean=False`
    gives every array its consumers from the start (for callers that write any state into
    them, as the engine contract's tests do). With `narrow` (the default) the fields of
    `layout.NARROW` are int16 while the run's bounds fit them (`_fit_narrow`);
    `narrow=False` keeps them int32. Runs are the same either way."""

    build_clock: type[BuildClock] = BuildClock
    """The clock timing the phases of construction (`build_phases` keeps its laps)."""

    def __init__(
        self,
        scenario: Scenario,
        rng: RunStreams | int | np.random.Generator | None = None,
        *,
        lean: bool = True,
        narrow: bool = True,
    ):
        clock = self.build_clock()
        aside.prepare()  # a fresh install: the second compiling process starts importing
        self.streams = streams = as_streams(rng)
        self.rng = streams.setup(Purpose.EVENTS)
        """The Generator single events (`apply_event`) draw from."""
        self.scenario = sc = scenario
        self.today = 0
        self.days = sc.run.days
        self.n_consumers = n = sc.run.consumers
        # needs are tracked only in categories some brand sells (as in the reference
        # engine, where a category no brand sells is never known, so never tracked)
        cat_names = [c for c in sc.categories if any(b.category == c for b in sc.brands.values())]
        self.brand_names = list(sc.brands)
        nb = len(self.brand_names)
        self.brand_params = [sc.brands[name] for name in self.brand_names]
        self.strategies: list[StrategyParams] = [
            bp.strategy.model_copy(deep=True) for bp in self.brand_params
        ]
        self.strategy_since = [0] * nb
        self._unused = self._unused_fields() if lean else frozenset()
        """The World arrays allocated without consumers (`layout.UNUSED_WHEN_OFF`)."""
        self._bounds = {"days": self.days, "guides": 0, "capacity": 0, "degree": 0}
        """What the fields of `layout.NARROW` must hold (`layout.narrow_fits`, `_fit_narrow`)."""
        self._narrow = narrow and layout.narrow_fits(**self._bounds)
        """Whether the fields of `layout.NARROW` are int16 (else int32)."""
        self.ledger = Ledger(self.days, self.brand_names, [bp.category for bp in self.brand_params])
        self._L = self.ledger.array  # the compiled day writes the ledger's array in place
        self._book = np.zeros((self.days, nb, *_COHORT_COLUMNS.shape))

        clock.lap("ledger")
        terms = platform_terms(sc)
        ncat = len(cat_names)
        all_categories = list(sc.categories)
        state, W_more, tasks = self._consumer_tasks(cat_names, len(terms))
        self.build_tasks = _run_tasks(tasks, build_threads(n))
        """Seconds each set-up task took on its thread (`_consumer_tasks`; they overlap)."""
        clock.lap("consumers")
        self.B = self._brands(cat_names)
        self.G = self._globals()
        clock.lap("platforms")

        net = self.network
        self.W = World(
            **W_more,
            **state,
            indptr=net.indptr,
            indices=net.indices,
            g_brand=np.zeros(0, dtype=np.int32),
            g_skill=np.zeros(0, dtype=np.float32),
            g_n=np.zeros(0, dtype=np.int32),
            g_len=np.zeros(0, dtype=np.int32),
            g_off=np.zeros(0, dtype=np.int64),
            g_cap=np.zeros(0, dtype=np.int32),
            g_list=np.zeros(0, dtype=np.int32),
            g_scratch=np.zeros((2, 0), dtype=np.int64),
            b_glo=np.zeros(nb, dtype=np.int64),
            b_ghi=np.zeros(nb, dtype=np.int64),
            b_full=np.zeros(nb, dtype=np.int64),
            d_brand=np.zeros(0, dtype=np.int32),
            d_kind=np.zeros(0, dtype=np.int32),
            d_ptr=np.zeros(1, dtype=np.int64),
            d_idx=np.zeros(0, dtype=np.int32),
            adstock=np.zeros(nb),
            budget_spent=np.zeros(nb),
            ad_spend=np.zeros(nb),
            pl_adstock=np.zeros((nb, len(terms))),
            pl_words=np.zeros(4, dtype=np.uint64),
            fake_members=np.zeros(nb, dtype=np.int64),
            n_advocates=np.zeros(nb, dtype=np.int64),
            n_koc_reach=np.zeros(nb, dtype=np.int64),
            n_state=np.array([[n, 0, 0, 0, 0]] * nb, dtype=np.int64).reshape(nb, 5),
            n_ever=np.zeros(nb, dtype=np.int64),
            n_repeat=np.zeros(nb, dtype=np.int64),
            review_stock=np.zeros(nb),
            review_orders=np.zeros((nb, 2), dtype=np.int64),
            scratch_i=np.zeros((3, 3 * nb + 2), dtype=np.int64),
            scratch_f=np.zeros((6, 3 * nb + 2)),
            phase=np.zeros(1, dtype=np.int64),
            ev_on=np.zeros(1, dtype=np.bool_),
            ev_int=np.zeros((0, WIDTH), dtype=np.int32),
            ev_val=np.zeros(0),
            ev_n=np.zeros(1, dtype=np.int64),
            value_key=streams.keys[Phase.ORDER_VALUE].copy(),
            draw_words=np.zeros(4, dtype=np.uint64),
            draw_flags=np.zeros(4, dtype=np.uint32),
            draw_saved=np.zeros(10, dtype=np.uint64),
            **self._demand_arrays(0 if "need_lift" in self._unused else n, ncat),
            dm_n=np.zeros(1, dtype=np.int64),
            dm_seen=np.zeros(nb),
            nq_meta=np.zeros(3, dtype=np.int64),
            nq_head=np.zeros((0, 2), dtype=np.int64),
            nq=np.zeros((0, 2), dtype=np.int64),
            cs_n=np.zeros((nb, 7), dtype=np.int64),
            cs_stop=np.zeros((2, nb, 0), dtype=np.int64),
            cs_meta=np.zeros(5, dtype=np.int64),
        )
        del state, W_more
        self._fit_narrow(degree=net.max_degree())
        clock.lap("arrays")
        self._skills: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * nb
        self._distributors: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(nb)]
        self._centres: list[list[int]] = [[] for _ in range(nb)]  # each distributor's person
        for b in range(nb):
            self._staff(b)
        clock.lap("staff")
        self._layout_staff()
        clock.lap("staff layout")
        self._draw_birthdays(self.strategies)  # lifecycle operations
        clock.lap("birthdays")
        # the day's draws: one Generator, pointed at each daily stream in turn by the
        # compiled day through its state memory; the table the kernels take (`K.step`):
        # (state words, state flags, phases' key words, kept streams per brand, scratch,
        # each tracked category's position in the scenario, for the needs' sub-keys)
        self._draw = np.random.Generator(np.random.PCG64(0))
        words, flags = state_views(self._draw)
        self._S = (
            words,
            flags,
            streams.keys,
            np.zeros((2 * nb, 6), dtype=np.uint64),  # rows nb..: lifecycle streams
            np.zeros(4, dtype=np.uint64),
            np.array([all_categories.index(c) for c in cat_names], dtype=np.int64),
        )
        self._review_draw = np.random.Generator(np.random.PCG64(0))
        # an order's value draw (order values and baskets) loads its own stream into the
        # same Generator and resumes the interrupted one: the kernels reach its memory
        self.W = self.W._replace(draw_words=words, draw_flags=flags)
        self._drop_refs()
        clock.lap("day state")
        # on a cold cache, a second process starts compiling the day (`aside`) from its
        # end while this one compiles it from its start, then the set-up entries the next
        # steps call while the second makes the day
        aside.begin(self._day_types)
        self._initial_funnel()
        self._welcomed = [
            np.flatnonzero(self.W.m_channel[b] >= 0).astype(np.int32)
            if "m_life" in self._unused
            else np.zeros(0, dtype=np.int32)
            for b in range(nb)
        ]
        """Lifecycle operations, where m_life is not allocated: each brand's members from
        before the run (`_give_room`)."""
        clock.lap("initial funnel")
        W, B, _ = self._structs()
        # every consumer's need clocks; a consumer who knows no category starts none and
        # draws nothing (its next need stays −1), so with nobody aware of any brand at the
        # start (Bass diffusion) the pass over the population is skipped
        if self.W.n_state[:, State.AWARE : State.MEMBER + 1].any():
            K.start_all_needs(W, B, 0, streams.setup(Purpose.NEED_CLOCKS))
        clock.lap("start needs")
        self.build_phases = clock.seconds
        """Seconds each phase of the construction took (`BuildClock`), in order."""

    # ------------------------------------------------------------------ set-up helpers
    def _consumer_tasks(
        self, cat_names: list[str], n_platforms: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[tuple[str, Callable[[], None]]]]:
        """The network and the consumers, drawn as in MarketModel.__init__ from the same
        streams, as tasks that fill arrays allocated here: (the fields of
        `layout.consumer_state`, World's other per-consumer arrays, the tasks). Each task
        draws from its own set-up streams only (made here, on this thread), so the tasks
        may run at once (`_run_tasks`) and give the same arrays in any order. Draws go a
        chunk at a time straight into the arrays the kernels read (cast as stored): no
        consumers × categories table in float64, and no copy of a trait, is ever held."""
        sc, streams, n = self.scenario, self.streams, self.n_consumers
        names, nb, ncat = self.brand_names, len(self.brand_names), len(cat_names)
        all_categories = list(sc.categories)
        chunk = _CHUNK
        # the arrays the draws are written into, allocated here (zeroed, untouched): the
        # records' fields where consumer_state lays them out as records (the "fields" task
        # writes the records' initial values as it does the dense arrays'), else arrays of
        # their own (consumer_state's untouched zero arrays for those fields are dropped)
        fields = {
            name: dtype
            for group in (
                layout.CONSUMER_FIELDS,
                layout.BRAND_FIELDS,
                layout.MEMBER_FIELDS,
                layout.DENSE_FIELDS,
            )
            for name, dtype, _ in group
        }
        drawn = (*population.TRAIT_FIELDS, "home", "store_access", "withheld")
        state: dict[str, np.ndarray] = {}
        unused = self._unused
        views = layout.record_views(nb, n, self._narrow) if layout.RECORDS else None
        per_consumer = {name for name, _, _ in layout.CONSUMER_FIELDS}

        def drawn_array(f: str) -> np.ndarray:
            if views is not None and f in views:
                return views[f]
            shape = n if f in per_consumer else (nb, 0 if f in unused else n)
            return np.zeros(shape, dtype=fields[f])

        out = {f: drawn_array(f) for f in drawn}
        no_birthdays = 0 if "birthday" in unused else n
        more: dict[str, np.ndarray] = {
            "need_rate": np.empty((n, ncat), dtype=np.float32),
            "need_p": np.empty((n, ncat), dtype=np.float32),
        }
        self._homes = out["home"]
        # every stream, made here in one order (a stream is the same Generator whatever
        # thread draws from it)
        rng_net = streams.setup(Purpose.NETWORK)
        rng_traits = streams.setup(Purpose.TRAITS)
        rng_needs = [streams.setup(Purpose.NEED_RATES, all_categories.index(c)) for c in cat_names]
        rng_stores = [
            streams.setup(Purpose.STORES, b) if bp.stores > 0 else None
            for b, bp in enumerate(self.brand_params)
        ]
        for b, bp in enumerate(self.brand_params):
            if bp.stores > 0 and bp.franchise_share > 0:
                streams.setup(Purpose.CHANNEL_OWNERS, b)
        rng_homes = streams.setup(Purpose.PLATFORMS) if n_platforms > 1 else None
        if any(sc.categories[c].order_value_cv > 0 for c in cat_names):
            for c in cat_names:
                if sc.categories[c].order_value_cv > 0:
                    streams.setup(Purpose.ORDER_VALUES, all_categories.index(c))

        def network() -> None:
            self.network = build_network(sc.network, n, rng_net)

        def traits() -> None:
            population.traits_into(sc, names, rng_traits, out, chunk)

        def fields_set() -> None:  # the initial values (the dense layout's first touch)
            arrays = consumer_state(nb, n, unused=unused, narrow=self._narrow, views=views)
            for name, value in arrays.items():
                if name not in out:
                    state[name] = value
            more["next_need"] = np.full((n, ncat), -1, dtype=np.int32)
            more["birthday"] = population.birthdays(no_birthdays, None)

        def needs() -> None:
            for c, name in enumerate(cat_names):
                rate, p = more["need_rate"][:, c], more["need_p"][:, c]
                population.need_rates_into(sc, name, rng_needs[c], rate, p, chunk)

        def stores() -> None:
            access = out["store_access"]
            for b, rng in enumerate(rng_stores):
                if rng is not None:
                    _draw_below(rng, self.brand_params[b].store_coverage, access[b])
            # each brand's catchment: the consumers with store access, ascending (int32,
            # found a chunk at a time, so no int64 index of the population is made)
            c_ptr = np.zeros(nb + 1, dtype=np.int64)
            c_ptr[1:] = np.cumsum(np.count_nonzero(access, axis=1))
            c_idx = np.empty(int(c_ptr[-1]), dtype=np.int32)
            for b in range(nb):
                if rng_stores[b] is None:
                    continue
                w = int(c_ptr[b])
                for lo in range(0, n, chunk):
                    found = np.flatnonzero(access[b, lo : lo + chunk])
                    c_idx[w : w + found.size] = found + lo
                    w += found.size
            more["c_ptr"], more["c_idx"] = c_ptr, c_idx

        def owners() -> None:
            population.channel_owners_into(sc, names, streams, out["withheld"], chunk)

        def homes() -> None:
            # several public platforms: each consumer's home (MarketModel.__init__'s draws,
            # the uniforms in chunks), held in the World's int8
            if rng_homes is None:
                return
            shares = np.array([p.shoppers for p in platform_terms(sc)])
            for lo in range(0, n, chunk):
                u = rng_homes.random(min(chunk, n - lo))
                out["home"][lo : lo + chunk] = rules.home_platforms(u, shares)

        def order_values() -> None:
            more["value_mean"] = self._order_value_means(cat_names)

        # the longest first: a thread that finishes early takes the short ones
        tasks: list[tuple[str, Callable[[], None]]] = [
            ("traits", traits),
            ("network", network),
            ("needs", needs),
            ("fields", fields_set),
            ("stores", stores),
            ("channel owners", owners),
            ("platforms", homes),
            ("order values", order_values),
        ]
        state.update(out)  # the "fields" task adds the other fields' arrays
        return state, more, tasks

    def _unused_fields(self) -> frozenset[str]:
        """The fields of `layout.UNUSED_WHEN_OFF` whose mechanism no brand can use with the
        strategies it starts with (or adopts: an adaptive brand adopts a peer's)."""
        strategies, brands = self.strategies, self.brand_params
        off: set[str] = set()
        if not any(st.member_need_lift > 0 for st in strategies):
            off.update(("need_lift", "dm_due", "dm_list"))
        if not any(st.koc_count > 0 or st.employee_distributors > 0 for st in strategies):
            off.add("koc_reach")
        if not any(bp.stores > 0 and bp.franchise_share > 0 for bp in brands):
            off.add("withheld")
        if not any(st.touch_targeting == "lifecycle" for st in strategies):
            off.add("birthday")
            n = self.n_consumers
            # the memberships from before the run can be told apart later (_lifecycle_days)
            if all(round(p.initial.members * n) <= round(p.initial.customers * n) for p in brands):
                off.add("m_life")
        stores = any(bp.stores > 0 for bp in brands)
        if not (stores and any(st.guides_per_store > 0 for st in strategies)):
            off.add("m_gpos")
        return frozenset(off)

    @staticmethod
    def _demand_arrays(rows: int, ncat: int) -> dict[str, np.ndarray]:
        """Demand expansion's arrays (World need_lift, dm_due, dm_list) for `rows` consumers
        (0: not allocated, `layout.UNUSED_WHEN_OFF`), at their initial values."""
        return {
            "need_lift": np.zeros((rows, ncat), dtype=np.float32),
            "dm_due": np.zeros(rows, dtype=np.bool_),
            "dm_list": np.zeros(rows, dtype=np.int32),
        }

    def _fit_narrow(self, **bounds: int) -> None:
        """Take the run's new `bounds` (`layout.narrow_fits`: a network's largest degree, a
        staff layout's guides and largest capacity). Where the fields of `layout.NARROW` are
        int16 and a bound passes what int16 holds, all of them become int32 at once, every
        value kept: the kernels then run (and compile, once) their second form. A bound only
        rises before the arrays hold it: the network before the run, a re-staffing before
        its guides are laid out."""
        self._bounds.update(bounds)
        if not self._narrow or layout.narrow_fits(**self._bounds):
            return
        self._drop_refs()
        self.W = self.W._replace(**layout.widened(self.W._asdict()))
        self._narrow = False

    def _give_room(self, b: int, strategy: StrategyParams) -> None:
        """Before brand b takes `strategy`: allocate, at their initial values, the World
        arrays of the mechanisms it turns on that were left without consumers
        (`layout.UNUSED_WHEN_OFF`). Until now nothing could write them, so every consumer
        holds what the array would have held from the start."""
        n, nb = self.n_consumers, len(self.brand_names)
        W = self.W
        room: dict[str, np.ndarray] = {}
        if strategy.member_need_lift > 0 and W.need_lift.shape[0] < n:
            room.update(self._demand_arrays(n, W.need_lift.shape[1]))
        if (strategy.koc_count > 0 or strategy.employee_distributors > 0) and (
            W.koc_reach.shape[1] < n
        ):
            room["koc_reach"] = np.zeros((nb, n), dtype=np.bool_)
        if strategy.touch_targeting == "lifecycle" and W.birthday.size < n:
            room["birthday"] = population.birthdays(n, None)
        if strategy.touch_targeting == "lifecycle" and W.m_life.shape[1] < n:
            room["m_life"] = self._lifecycle_days()
        guides = strategy.guides_per_store > 0 and self.brand_params[b].stores > 0
        if guides and W.m_gpos.shape[1] < n:
            room["m_gpos"] = np.full((nb, n), -1, dtype=W.m_gpos.dtype)
        if room:
            self._drop_refs()
            self.W = self.W._replace(**room)
            self._unused = self._unused - set(room)

    def _lifecycle_days(self) -> np.ndarray:
        """World m_life as it would stand had it been kept from the start, where no strategy
        has targeted lifecycles yet: no lifecycle touch, except the members from before the
        run (`kernels.initial_funnel`: WELCOMED_BEFORE_RUN) who still hold that membership.
        Those are told apart exactly: each brand's members from before the run
        (`_welcomed`) were all customers from before the run (`_unused_fields`), acquired
        on day −10⁶; leaving resets nothing of that but a lapse or an exclusion, which sets
        `acquired` to NOT_ACQUIRED (a later first order sets it to that day), and a join
        after a leave is stamped (day·16 + phase) above 0 unless it came in the brands
        phase of day 0, where only a lapse (after an order) can end a membership. So a
        member from before the run still holds it iff it is a member, its join stamp is 0
        and it was acquired on day −10⁶."""
        nb, n = len(self.brand_names), self.n_consumers
        W = self.W
        life = np.full((nb, n), rules.NO_LIFECYCLE_TOUCH, dtype=np.int32)
        for b, welcomed in enumerate(self._welcomed):
            kept = (
                (W.m_channel[b, welcomed] >= 0)
                & (W.m_joined[b, welcomed] == 0)
                & (W.acquired[b, welcomed] == -(10**6))
            )
            life[b, welcomed[kept]] = rules.WELCOMED_BEFORE_RUN
        return life

    def _order_value_means(self, cat_names: list[str]) -> np.ndarray:
        """Order values and baskets: each consumer's mean order value per category sold,
        relative to its price (`sim.population.order_value_means`, the reference's draws),
        or an empty table when no category spreads order values (the kernels then read 1)."""
        sc = self.scenario
        if not any(sc.categories[c].order_value_cv > 0 for c in cat_names):
            return np.zeros((0, len(cat_names)))
        return population.order_value_means(sc, cat_names, self.n_consumers, self.streams)

    def _structs(self) -> tuple:
        """(World, Brands, Globals) as the StructRefs the kernels take, sharing the arrays
        of self.W, self.B and self.G (rebuilt when the staff layout replaces arrays)."""
        if getattr(self, "_refs", None) is None:
            self._refs = (as_struct(self.W), as_struct(self.B), as_struct(self.G))
        return self._refs

    def _drop_refs(self) -> None:
        """Forget the StructRefs (`_structs` rebuilds them from self.W, B, G), keeping
        the event buffers the kernels may have grown (and the rows in them)."""
        refs = getattr(self, "_refs", None)
        if refs is not None and self.W.ev_on[0]:
            ev_int, ev_val = K.event_buffers(refs[0])
            self.W = self.W._replace(ev_int=ev_int, ev_val=ev_val)
        self._refs = None

    def _globals(self) -> Globals:
        """Every scalar field of the population, touches and platform under its own name
        (`sim.fast.bridge`), and the constants computed from the scenario."""
        sc = self.scenario
        pop, te = sc.population, sc.touches
        festivals = calendar.windows(sc.calendar)
        span = np.arange(self.days + 2)
        values = {}
        for fields, params in (
            (POPULATION_FIELDS, pop),
            (TOUCH_FIELDS, te),
            (PLATFORM_FIELDS, sc.platform),
        ):
            values.update(field_values(fields, params))
        return Globals(
            n=self.n_consumers,
            days=self.days,
            mixing=bool(self.network.mixing),
            discount_factor=rules.daily_discount_factor(sc.market.discount_rate_per_year),
            fatigue_pow=rules.decay(1.0, pop.fatigue_decay, span).astype(np.float64),
            engagement_pow=rules.decay(1.0, pop.engagement_decay, span).astype(np.float64),
            fatigue_touch=np.array([te.fatigue_content, te.fatigue_service, te.fatigue_selling]),
            **self._platform_globals(),
            start_day_of_year=int(sc.calendar.start_day_of_year),
            fest_first=festivals.first,
            fest_last=festivals.last,
            fest_mult=np.ascontiguousarray(festivals.multipliers.T),
            festival_today=np.array([1.0, 1.0, 1.0, 0.0]),
            **values,
        )

    def _platform_globals(self) -> dict[str, np.ndarray]:
        """The public platforms' terms as arrays (`layout.GLOBAL_SPECIALS` pl_*), their
        shoppers and the ban draws' stream key (several public platforms)."""
        terms = platform_terms(self.scenario)

        def each(name: str, dtype: type = np.float64) -> np.ndarray:
            return np.array([getattr(p, name) for p in terms], dtype=dtype)

        return {
            "pl_base_cpm": each("base_cpm"),
            "pl_cpm_growth": each("cpm_growth_per_year"),
            "pl_elasticity": each("cpm_demand_elasticity"),
            "pl_reference": each("reference_ad_demand"),
            "pl_take_rate": each("take_rate"),
            "pl_protection": each("buyer_protection"),
            "pl_feed": np.array([p.discovery == "feed" for p in terms], dtype=np.bool_),
            "pl_feed_boost": each("feed_boost"),
            "pl_ban_risk": each("ban_risk"),
            "pl_shoppers": self._shoppers(len(terms)),
            "ban_key": self.streams.keys[Phase.PLATFORM_BAN].copy(),
        }

    def _shoppers(self, platforms: int) -> np.ndarray:
        """Each platform's shoppers (the consumers whose home it is), counted a chunk at a
        time: a bincount of the int8 homes at once would first widen them all to int64."""
        counts = np.zeros(platforms, dtype=np.int64)
        for lo in range(0, self._homes.size, _CHUNK):
            counts += np.bincount(self._homes[lo : lo + _CHUNK], minlength=platforms)
        return counts

    def _set_split(self, B: Brands, b: int) -> None:
        """Write brand b's split of its ad budget over the platforms (`sim.params.ad_split`)."""
        B.ad_split[b] = ad_split(self.scenario, self.strategies[b])

    def _brands(self, cat_names: list[str]) -> Brands:
        """Per-brand arrays: one per scalar field of the strategy, the brand and its
        category (`sim.fast.bridge`), then the tables of `layout.BRAND_TABLES`."""
        sc = self.scenario
        nb = len(self.brand_names)
        # every strategy a brand may adopt comes from a peer: size the tier tables for all
        t_max = max([len(s.referral_tiers) for s in self.strategies] + [1])
        k_max = max([len(s.tier_spend) for s in self.strategies] + [1])
        per_cat = [
            [b for b, bp in enumerate(self.brand_params) if bp.category == c] for c in cat_names
        ]
        width = max([len(x) for x in per_cat] + [1])
        cat_brands = np.full((len(cat_names), width), -1, dtype=np.int64)
        for c, members in enumerate(per_cat):
            cat_brands[c, : len(members)] = members
        B = Brands(
            **{f.name: np.zeros(nb, dtype=f.dtype) for f in PER_BRAND_FIELDS},
            mix=np.zeros((nb, 3)),
            tier_needed=np.zeros((nb, t_max), dtype=np.int64),
            tier_reward=np.zeros((nb, t_max)),
            n_reward_tiers=np.zeros(nb, dtype=np.int64),
            tier_spend=np.zeros((nb, k_max)),
            tier_discount=np.zeros((nb, k_max)),
            n_spend_tiers=np.zeros(nb, dtype=np.int64),
            category=np.array(
                [cat_names.index(bp.category) for bp in self.brand_params], dtype=np.int64
            ),
            cat_brands=cat_brands,
            cat_nbrands=np.array([len(x) for x in per_cat], dtype=np.int64),
            ad_split=np.zeros((nb, len(platform_terms(sc)))),
            segment_mix=np.zeros((nb, len(Segment), 3)),
        )
        for b, bp in enumerate(self.brand_params):
            write_fields(B, b, BRAND_FIELDS, bp)
            write_fields(B, b, CATEGORY_FIELDS, sc.categories[bp.category])
            self._set_levers(B, b, self.strategies[b])
            self._set_split(B, b)
        return B

    @staticmethod
    def _set_levers(B: Brands, b: int, st: StrategyParams) -> None:
        """Write a strategy's levers into brand b's entries."""
        write_fields(B, b, STRATEGY_FIELDS, st)
        B.mix[b] = (st.content_mix.content, st.content_mix.service, st.content_mix.selling)
        for seg in Segment:  # lifecycle operations: each segment's mix
            mix = st.segment_mix(seg)
            B.segment_mix[b, seg] = (mix.content, mix.service, mix.selling)
        t = len(st.referral_tiers)
        if t > B.tier_needed.shape[1] or len(st.tier_spend) > B.tier_spend.shape[1]:
            raise ValueError("a strategy with more tiers than any brand started with")
        B.n_reward_tiers[b] = t
        B.tier_needed[b, :t] = [x.referrals for x in st.referral_tiers]
        B.tier_reward[b, :t] = [x.reward for x in st.referral_tiers]
        k = len(st.tier_spend)
        B.n_spend_tiers[b] = k
        B.tier_spend[b, :k] = st.tier_spend
        B.tier_discount[b, :k] = st.tier_discount

    def _staff(self, b: int) -> None:
        """Brand.staff for brand b: draw its staff (`sim.staffing.draw_staff`); the arrays
        are laid out by `_layout_staff`. Members of guides who go become group members."""
        W = self.W
        had_guides = W.m_guide[b] >= 0
        if had_guides.any():
            W.m_channel[b, had_guides] = int(MemberChannel.GROUP)
            W.m_guide[b, had_guides] = -1
            W.m_gpos[b, had_guides] = -1
        staff = draw_staff(
            self.strategies[b],
            self.brand_params[b].stores,
            self.network,
            self.streams.setup(Purpose.STAFFING, b),
        )
        self._skills[b] = staff.skills.astype(np.float32)
        self._distributors[b] = [(int(d.kind), d.circle) for d in staff.distributors]
        self._centres[b] = [d.centre for d in staff.distributors]

    def _layout_staff(self) -> None:
        """Lay all brands' guides and distributors out as arrays; members keep their
        guides (by position within their brand) and guides' reachable lists are rebuilt."""
        nb = len(self.brand_names)
        counts = [s.size for s in self._skills]
        total = int(sum(counts))
        g_brand = np.repeat(np.arange(nb, dtype=np.int32), counts)
        g_cap = self.B.guide_capacity[g_brand].astype(np.int32)
        self._fit_narrow(guides=total, capacity=int(g_cap.max()) if total else 0)
        W = self.W
        glo = np.zeros(nb, dtype=np.int64)
        glo[1:] = np.cumsum(counts)[:-1]
        ghi = glo + counts
        # members keep their guides' positions within their brand (the old W.b_glo) as the
        # layout moves the brand's block of guides to glo
        g_off = np.zeros(total, dtype=np.int64)
        if total:
            g_off[1:] = np.cumsum(g_cap.astype(np.int64))[:-1]
        g_list = np.zeros(int(g_cap.astype(np.int64).sum()), dtype=np.int32)
        g_n = np.zeros(total, dtype=np.int32)
        g_len = np.zeros(total, dtype=np.int32)
        b_full = np.zeros(nb, dtype=np.int64)
        for b in range(nb):
            members = np.flatnonzero(W.m_guide[b] >= 0)
            W.m_guide[b, members] = W.m_guide[b, members] - W.b_glo[b] + glo[b]
            guides = W.m_guide[b, members]
            np.add.at(g_n, guides, 1)
            reach = members[~W.m_muted[b, members]]
            order = np.argsort(W.m_guide[b, reach], kind="stable")
            reach = reach[order]
            rg = W.m_guide[b, reach]
            if reach.size:
                starts = np.searchsorted(rg, rg, side="left")
                pos = np.arange(reach.size) - starts
                g_list[g_off[rg] + pos] = reach
                W.m_gpos[b, reach] = pos
                np.add.at(g_len, rg, 1)
            b_full[b] = int((g_n[glo[b] : ghi[b]] >= g_cap[glo[b] : ghi[b]]).sum())
        circles = [(b, kind, c) for b in range(nb) for kind, c in self._distributors[b]]
        d_ptr = np.zeros(len(circles) + 1, dtype=np.int64)
        d_ptr[1:] = np.cumsum([c.size for _, _, c in circles])
        self._drop_refs()
        W = self.W
        self.W = W._replace(
            g_brand=g_brand,
            g_skill=np.concatenate(self._skills).astype(np.float32),
            g_n=g_n,
            g_len=g_len,
            g_off=g_off,
            g_cap=g_cap,
            g_list=g_list,
            g_scratch=np.zeros((2, int(g_cap.max()) if total else 0), dtype=np.int64),
            b_glo=glo,
            b_ghi=ghi,
            b_full=b_full,
            d_brand=np.array([b for b, _, _ in circles], dtype=np.int32),
            d_kind=np.array([k for _, k, _ in circles], dtype=np.int32),
            d_ptr=d_ptr,
            d_idx=(
                np.concatenate([c for _, _, c in circles]).astype(np.int32)
                if circles
                else np.zeros(0, dtype=np.int32)
            ),
        )

    def _draw_birthdays(self, strategies: list[StrategyParams]) -> None:
        """Lifecycle operations: draw the consumers' birthdays (`Purpose.BIRTHDAYS`) the
        first time a strategy touches members on them (MarketModel._draw_birthdays)."""
        if self.W.birthday[:1].tolist() == [-1] and population.wants_birthdays(strategies):
            rng = self.streams.setup(Purpose.BIRTHDAYS)
            self.W.birthday[:] = population.birthdays(self.n_consumers, rng)

    def _initial_funnel(self) -> None:
        """MarketModel._initial_funnel: per brand, a permutation of the consumers from its
        own set-up stream (`Purpose.FUNNEL`), whose first `aware` are aware, first
        `customers` customers and first `members` members (`K.initial_funnel`). A brand with
        nobody aware at the start is skipped, permutation and all: its stream serves nothing
        else in this engine, so the draws it would take change nothing."""
        n = self.n_consumers
        for b, bp in enumerate(self.brand_params):
            init = bp.initial
            n_aware = round(init.aware * n)
            if n_aware <= 0:
                continue
            rng = self.streams.setup(Purpose.FUNNEL, b)
            order = population.funnel_order(n, rng)
            st = self.strategies[b]
            has_guides = self.W.b_ghi[b] > self.W.b_glo[b]
            preferred = (
                int(MemberChannel.GUIDE)
                if has_guides
                else MEMBER_CHANNELS.index(st.package_card_channel)
            )
            K.initial_funnel(
                *self._structs(),
                self._L,
                b,
                order,
                n_aware,
                round(init.customers * n),
                round(init.members * n),
                init.last_purchase_within,
                preferred,
                rng,
            )
            del order

    # ------------------------------------------------------------------ running
    def _day_types(self) -> tuple:
        """The argument types of `kernels.run_days` for this model, known before its
        structs are made (`layout.struct_type`)."""
        structs = [layout.struct_type(group) for group in (self.W, self.B, self.G)]
        rest = (self._L, self._book, self.today, self.today, self._draw, self._S)
        return (*structs, *map(numba.typeof, rest))

    def _run_days(self, first: int, last: int) -> None:
        """Days first..last−1 (`kernels.run_days`). While a second process compiles
        alongside this one (`aside`), the day is compiled (or loaded, once the second
        process made it) and the second process ended, before the days run."""
        args = (*self._structs(), self._L, self._book, first, last, self._draw, self._S)
        if aside.running():
            aside.compile_day(tuple(map(numba.typeof, args)))
        K.run_days(*args)

    @_one_thread
    def step(self) -> None:
        """One day (the same process order as MarketModel.step)."""
        self._run_days(self.today, self.today + 1)
        if (self.today + 1) % self.scenario.market.review_days == 0:
            self._review_strategies()
        self.today += 1
        self.close()

    @_one_thread
    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Step through the horizon; `progress(day)` after each chunk of days."""
        review = self.scenario.market.review_days
        chunk = max(1, min(review, 30))
        while self.today < self.days:
            # stop at the end of a review day, so reviews happen between days
            next_review = (self.today // review + 1) * review
            last = min(self.days, self.today + chunk, next_review)
            self._run_days(self.today, last)
            self.today = last
            if self.today % review == 0:
                self.today -= 1
                self._review_strategies()
                self.today += 1
            if progress is not None:
                progress(self.today)
        self.close()

    def close(self) -> None:
        """Bring the Ledger up to date: cohorts booked on their due day (flows and stocks
        are already in its array)."""
        L = self._L
        for (h, s, k), c in np.ndenumerate(_COHORT_COLUMNS):
            L[:, c, :] = self._book[:, :, h, s, k]
        self.ledger.day = self.today

    # ------------------------------------------------------------------ strategy review
    def _review_strategies(self) -> None:
        """MarketModel._review_strategies: `sim.review.review_strategies` over this
        engine's ledger arrays; an adoption goes through the one path of a strategy change
        (`set_strategy`, which re-lays the staff arrays)."""
        review_strategies(
            self._L[:, column("gross_profit"), :],
            self._L[:, column("cost_total"), :],
            [bp.adaptive for bp in self.brand_params],
            [bp.category for bp in self.brand_params],
            self.strategies,
            self.strategy_since,
            self.today,
            self.scenario.market,
            self.streams.daily(Phase.REVIEW, self.today, 0, self._review_draw),
            lambda b, strategy: self.set_strategy(b, strategy, restaff=True),
        )

    def _adopt(self, b: int, strategy: StrategyParams) -> None:
        self.strategies[b] = strategy.model_copy(deep=True)
        self.strategy_since[b] = self.today + 1
        self._set_levers(self.B, b, self.strategies[b])
        self._set_split(self.B, b)
        self._staff(b)

    # ------------------------------------------------------------------ one event
    @_one_thread
    def apply_event(
        self, code: int, consumer: int, brand: int, ints: np.ndarray, floats: np.ndarray, day: int
    ) -> int:
        """Apply one model event (`sim.fast.events.Event`: an order, a touch, a join ...) to
        consumer `consumer` and brand `brand` on `day`, by the kernel the day's control flow
        calls, alone. The engine contract (tests/test_contract.py) feeds the same event to
        both engines this way; returns the kernel's boolean answer where it has one, else 0."""
        W, B, G = self._structs()
        # the kernels draw through the day's Generator, whose memory an order's value draw
        # switches (order values and baskets): the event's Generator state goes through it
        self._draw.bit_generator.state = self.rng.bit_generator.state
        out = int(
            apply_event(
                W,
                B,
                G,
                self._L,
                self._book,
                day,
                self._draw,
                int(code),
                consumer,
                brand,
                ints,
                floats,
            )
        )
        self.rng.bit_generator.state = self._draw.bit_generator.state
        return out

    # ------------------------------------------------------------------ engine protocol
    # (sim.protocol.Engine: what the workshop and the runner may ask of an engine)
    def record_events(self) -> np.ndarray:
        """From now on, record every order, join, mute, leave and lapse (`sim.events`):
        the kernels append raw rows to buffers they grow (`kernels.note`). Returns who has
        bought from each brand so far (bool [brand, consumer])."""
        self.W.ev_on[0] = True
        return self.W.purchases > 0

    @_one_thread
    def take_events(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw event rows recorded since the last call (`sim.events.WIDTH` int32
        columns, and the values), in the order the events happened."""
        if not self.W.ev_on[0]:
            raise RuntimeError("events are not recorded: call record_events() first")
        ints, values, ev_int, ev_val = K.take_events(self._structs()[0])
        self.W = self.W._replace(ev_int=ev_int, ev_val=ev_val)
        return ints, values

    @_one_thread
    def set_platform(self, platform: PlatformParams) -> None:
        """New platform terms from the next day on (sim.protocol.Engine.set_platform): the
        kernels read them from the globals, rebuilt from the new scenario (nothing else in
        them changes)."""
        self.scenario = self.scenario.model_copy(update={"platform": platform.model_copy()})
        self._drop_refs()
        self.G = self._globals()

    @_one_thread
    def set_strategy(
        self, brand: int, strategy: StrategyParams, restaff: bool | None = None
    ) -> None:
        """Give brand `brand` a new strategy from the next day on: re-staff (and restart
        the strategy's clock) if a staffing field changed or `restaff` is True, else just
        write the new levers (sim.protocol.Engine.set_strategy)."""
        self._give_room(brand, strategy)
        self._draw_birthdays([strategy])
        if restaff is None:
            restaff = restaffs(self.strategies[brand], strategy)
        self._fit_tiers(strategy)
        if restaff:
            self._adopt(brand, strategy)
            self._layout_staff()
        else:
            self.strategies[brand] = strategy.model_copy(deep=True)
            self._set_levers(self.B, brand, self.strategies[brand])
            self._set_split(self.B, brand)

    def _fit_tiers(self, strategy: StrategyParams) -> None:
        """Widen the tier tables (zero-padded) if `strategy` has more referral reward or
        spend tiers than any brand started with: a strategy set from outside (the
        workshop) need not come from a peer."""
        B = self.B
        wider: dict[str, np.ndarray] = {}
        for count, names in (
            (len(strategy.referral_tiers), ("tier_needed", "tier_reward")),
            (len(strategy.tier_spend), ("tier_spend", "tier_discount")),
        ):
            pad = count - getattr(B, names[0]).shape[1]
            if pad > 0:
                for name in names:
                    wider[name] = np.pad(getattr(B, name), ((0, 0), (0, pad)))
        if wider:
            self._drop_refs()
            self.B = self.B._replace(**wider)

    def strategy(self, brand: int) -> StrategyParams:
        """A copy of the brand's current strategy."""
        return self.strategies[brand].model_copy(deep=True)

    def brand_snapshot(self, brand: int) -> BrandSnapshot:
        """The brand's strategy, staff and fake members (sim.snapshots.BrandSnapshot).
        A guide's store follows the reference engine's rule: guide k works in store
        k mod stores."""
        W = self.W
        lo, hi = int(W.b_glo[brand]), int(W.b_ghi[brand])
        row = W.m_guide[brand]
        members = np.flatnonzero(row >= 0)
        their = row[members]
        stores = int(self.brand_params[brand].stores)
        return BrandSnapshot(
            index=brand,
            name=self.brand_names[brand],
            category=self.brand_params[brand].category,
            strategy=self.strategy(brand),
            strategy_since=int(self.strategy_since[brand]),
            stores=stores,
            guides=tuple(
                GuideSnapshot(
                    store=k % max(stores, 1),
                    skill=float(W.g_skill[g]),
                    members=tuple(members[their == g].tolist()),
                )
                for k, g in enumerate(range(lo, hi))
            ),
            distributors=tuple(
                DistributorSnapshot(
                    kind=DistributorKind(kind), centre=int(centre), circle=tuple(c.tolist())
                )
                for (kind, c), centre in zip(
                    self._distributors[brand], self._centres[brand], strict=True
                )
            ),
            fake_members=int(W.fake_members[brand]),
        )

    def consumer_snapshot(self, consumer: int) -> ConsumerSnapshot:
        """One consumer towards every brand (sim.snapshots.ConsumerSnapshot); memberships
        faded to today without touching the arrays."""
        W, i = self.W, consumer
        pop = self.scenario.population
        brands = []
        for b in range(len(self.brand_names)):
            ms = None
            if W.m_channel[b, i] >= 0:
                days = self.today - int(W.m_upd[b, i])
                guide = int(W.m_guide[b, i])
                ms = MembershipSnapshot(
                    channel=MemberChannel(int(W.m_channel[b, i])),
                    joined=int(W.m_joined[b, i]) // 16,  # the stamp is day·16 + phase
                    engagement=float(rules.decay(float(W.m_eng[b, i]), pop.engagement_decay, days)),
                    fatigue=float(rules.decay(float(W.m_fat[b, i]), pop.fatigue_decay, days)),
                    muted=bool(W.m_muted[b, i]),
                    reluctant=bool(W.m_reluct[b, i]),
                    guide=None if guide < 0 else guide - int(W.b_glo[b]),
                    referrals=int(W.m_refs[b, i]),
                )
            bought = int(W.purchases[b, i])
            brands.append(
                ConsumerBrandSnapshot(
                    state=State(int(W.funnel[b, i])),
                    purchases=bought,
                    spend=float(W.spend[b, i]),
                    last_purchase=int(W.last_purchase[b, i]) if bought else None,
                    membership=ms,
                )
            )
        net = self.network
        return ConsumerSnapshot(
            index=i,
            friends=int(net.indptr[i + 1] - net.indptr[i]),
            hunter=bool(W.hunter[i]),
            brands=tuple(brands),
        )

    def states(self, brand: int) -> np.ndarray:
        """Every consumer's funnel state towards the brand (a read-only view)."""
        return _read_only(self.W.funnel[brand])

    def member_channels(self, brand: int) -> np.ndarray:
        """Each consumer's member channel code in the brand's private domain, −1 if none
        (a read-only view)."""
        return _read_only(self.W.m_channel[brand])

    def member_guides(self, brand: int) -> np.ndarray:
        """Each member's guide (position among the brand's guides), −1 if none."""
        row = self.W.m_guide[brand]
        out = np.where(row >= 0, row - self.W.b_glo[brand], -1).astype(np.int32)
        return _read_only(out)


def _read_only(a: np.ndarray) -> np.ndarray:
    """A view of `a` that refuses writes (the array itself stays writable)."""
    view = a.view()
    view.flags.writeable = False
    return view
