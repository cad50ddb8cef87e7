"""The run's random streams (sim.streams): keys that never move, the compiled loading of a
stream drawing what NumPy's state API gives, the same bytes for the same seed on both
engines and every path, and common random numbers: a scenario change leaves the draws of
everything it does not touch alone, and a twin that differs from some day on has the same
ledger up to that day."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.fast import kernels as K
from sim.protocol import ENGINES, build_engine
from sim.runner import run, run_rng
from sim.scenario import load_scenario
from sim.streams import (
    DAILY,
    MAX_CATEGORIES,
    SETUP,
    Phase,
    Purpose,
    RunStreams,
    need_sub,
    state_views,
)

KEYS = {
    "MESA": 1,
    "NETWORK": 2,
    "STORES": 3,
    "NEED_RATES": 4,
    "TRAITS": 5,
    "FUNNEL": 6,
    "NEED_CLOCKS": 7,
    "STAFFING": 8,
    "EVENTS": 9,
    "CHANNEL_OWNERS": 10,
    "ORDER_VALUES": 14,  # order values and baskets
    "PLATFORMS": 13,  # several public platforms
    "BIRTHDAYS": 15,  # lifecycle operations
}
PHASES = {
    "BRAND_ORDER": 1,
    "ADS": 2,
    "WORD_OF_MOUTH": 3,
    "STORE_TRAFFIC": 4,
    "DISTRIBUTOR_ORDER": 5,
    "DISTRIBUTORS": 6,
    "GUIDE_ORDER": 7,
    "GUIDES": 8,
    "BROADCAST": 9,
    "MEMBERS_DAY": 10,
    "NEED_ORDER": 11,
    "NEEDS": 12,
    "REVIEW": 13,
    "ORDER_VALUE": 18,  # order values and baskets
    "DEMAND_EXPANSION": 20,
    "REVIEWS": 15,  # private lifts public (ODD 7.21)
    "PLATFORM_BAN": 17,  # several public platforms
    "FESTIVAL": 16,  # the calendar
    "LIFECYCLE": 19,  # lifecycle operations
}
"""The key table of docs/ODD.md: a stream's key is part of every run's bytes."""


def test_stream_keys_are_unique_and_stable():
    assert {p.name: p.value for p in Purpose} == KEYS
    assert {p.name: p.value for p in Phase} == PHASES
    streams = RunStreams(7)
    # set-up streams: SeedSequence(seed, spawn_key=(SETUP, purpose, index))
    for purpose in Purpose:
        for index in (0, 2):
            want = np.random.default_rng(
                np.random.SeedSequence(7, spawn_key=(SETUP, int(purpose), index))
            ).random(3)
            assert np.array_equal(RunStreams(7).setup(purpose, index).random(3), want)
    # daily keys: SeedSequence(seed, spawn_key=(DAILY, phase)).generate_state(4)
    for phase in Phase:
        ss = np.random.SeedSequence(7, spawn_key=(DAILY, int(phase)))
        assert np.array_equal(streams.keys[phase], ss.generate_state(4, np.uint64))
    firsts = {
        (p, day, sub): streams.daily(p, day, sub).random()
        for p in Phase
        for day in (0, 1, 364)
        for sub in (0, 1, need_sub(1, 0), need_sub(0, 1))
    }
    assert len(set(firsts.values())) == len(firsts), "two streams start alike"
    assert streams.setup(Purpose.STAFFING, 1) is streams.setup(Purpose.STAFFING, 1)
    assert need_sub(1, 0) == MAX_CATEGORIES


@njit
def _draw_compiled(rng, S, phase, day, sub, other):
    """Load a stream as the compiled day does, draw, switch to another stream and back."""
    out = np.zeros(8)
    K.load_stream(S, phase, day, sub)
    K.save_stream(S, 0)
    K.load_stream(S, phase, day, other)
    out[0] = rng.integers(0, 1000)  # 32-bit draw: leaves half a word buffered
    K.save_stream(S, 1)
    K.resume_stream(S, 0)
    out[1] = rng.random()
    out[2] = rng.integers(0, 1000)
    out[3] = rng.integers(0, 1000)
    K.resume_stream(S, 1)
    out[4] = rng.integers(0, 1000)  # the buffered half
    out[5] = rng.random()
    K.load_stream(S, phase, day, sub)
    out[6] = rng.random()
    return out


def test_compiled_loading_draws_what_numpy_gives():
    """The fast engine writes a stream's state into its Generator's memory; the reference
    engine sets it through NumPy's API: both draw the same numbers, and a stream switched
    away from and back to continues where it stood (its buffered 32 bits included)."""
    streams = RunStreams(11)
    draw = np.random.Generator(np.random.PCG64(0))
    words, flags = state_views(draw)
    S = (words, flags, streams.keys, np.zeros((2, 6), dtype=np.uint64), np.zeros(4, np.uint64))
    S = (*S, np.zeros(1, dtype=np.int64))
    got = _draw_compiled(draw, S, int(Phase.GUIDES), 40, 2, 3)
    a, b = streams.daily(Phase.GUIDES, 40, 2), streams.daily(Phase.GUIDES, 40, 3)
    want = [
        b.integers(0, 1000),
        a.random(),
        a.integers(0, 1000),
        a.integers(0, 1000),
        b.integers(0, 1000),
        b.random(),
        streams.daily(Phase.GUIDES, 40, 2).random(),
    ]
    assert got[:7].tolist() == [float(x) for x in want]


def small(name: str = "bench_three_brands", days: int = 40, **overrides):
    return load_scenario(name, {"run.consumers": 400, "run.days": days, **overrides})


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_bytes_on_every_path(engine):
    sc = small()
    a, b = run(sc, 5, engine), run(sc, 5, engine)
    assert a.ledger.equals(b.ledger)
    stepped = build_engine(engine, sc, run_rng(5))
    for _ in range(sc.run.days):
        stepped.step()
    assert stepped.ledger.to_frame().equals(a.ledger)
    assert not run(sc, 6, engine).ledger.equals(a.ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_change_to_one_brands_staff_leaves_everything_else_drawn_alike(engine):
    """More guides for brand 2 (`assist`) draw more numbers from its staffing stream only:
    brand 1's guides, every consumer's traits and needs, the network and every brand's
    day-0 funnel states stay the same."""
    base = build_engine(engine, small(days=5), run_rng(3))
    more = build_engine(
        engine, small(days=5, **{"brands.assist.strategy.guides_per_store": 1.5}), run_rng(3)
    )
    assert len(more.brand_snapshot(1).guides) > len(base.brand_snapshot(1).guides)
    assert base.brand_snapshot(0) == more.brand_snapshot(0)
    assert base.brand_snapshot(2) == more.brand_snapshot(2)
    for b in range(3):
        assert np.array_equal(base.states(b), more.states(b))
    assert np.array_equal(base.network.indices, more.network.indices)
    for i in range(base.n_consumers):
        a, m = base.consumer_snapshot(i), more.consumer_snapshot(i)
        assert a.hunter == m.hunter and a.friends == m.friends
        assert a.brands[0] == m.brands[0] and a.brands[2] == m.brands[2]
    if engine == "fast":
        for name in ("alpha", "trust", "tolerance", "slots", "need_rate", "next_need"):
            assert np.array_equal(getattr(base.W, name), getattr(more.W, name)), name
    else:
        for a, m in zip(base.consumers, more.consumers, strict=True):
            assert (a.price_sensitivity, a.trust) == (m.price_sensitivity, m.trust)
            assert np.array_equal(a.need_rates, m.need_rates)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_identical_twin_has_the_same_ledger(engine):
    sc = small()
    same = sc.brands["guides"].strategy.private_discount
    twin = small(**{"brands.guides.strategy.private_discount": same})
    assert run(sc, 2, engine).ledger.equals(run(twin, 2, engine).ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_twin_that_differs_from_day_x_has_the_same_ledger_before_day_x(engine):
    """The twin switches brand `guides`'s private operations off at the end of day X − 1
    (`set_strategy`, the path of a strategy change): every ledger row before day X is the
    scenario's, byte for byte, on both engines; from day X on they differ."""
    x, sc = 20, small(days=35)
    scenario = build_engine(engine, sc, run_rng(9))
    twin = build_engine(engine, sc, run_rng(9))
    for day in range(sc.run.days):
        if day == x:
            off = twin.strategy(0).model_copy(update={"private_ops": False})
            twin.set_strategy(0, off)
        scenario.step()
        twin.step()
    a, t = scenario.ledger.to_frame(), twin.ledger.to_frame()
    assert a[a.day < x].equals(t[t.day < x])
    assert not a[a.day >= x].equals(t[t.day >= x])


def test_a_scenario_has_no_more_categories_than_need_streams() -> None:
    """Needs get one stream per consumer and category: a scenario with more categories than
    the sub-keys set aside is refused (one message naming `categories`), not aliased."""
    import pydantic

    from sim.params import Scenario

    cats = {f"c{k}": {} for k in range(MAX_CATEGORIES + 1)}
    with pytest.raises(pydantic.ValidationError, match="categories: 4,097 categories"):
        Scenario.model_validate({"categories": cats, "brands": {"b": {"category": "c0"}}})
    ok = dict(list(cats.items())[:MAX_CATEGORIES])
    assert (
        len(
            Scenario.model_validate(
                {"categories": ok, "brands": {"b": {"category": "c0"}}}
            ).categories
        )
        == MAX_CATEGORIES
    )
