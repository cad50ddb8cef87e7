"""Building the fast engine's model (`FastModel.__init__`) in chunks, in float32 and without
consumer-sized temporaries gives exactly the arrays the plain construction gave: the oracle
below is that construction, drawing from its own copy of the run's streams."""

from __future__ import annotations

import numpy as np
import pytest

from sim import population, rules
from sim.fast import FastModel
from sim.fast import engine as fast_engine
from sim.params import platform_terms
from sim.runner import run_rng
from sim.scenario import load_scenario
from sim.streams import Purpose

CASES = [
    # three brands with stores, KOCs and employees; two categories (a brand moved to fmcg)
    ("bench_three_brands", {"run.consumers": 523, "brands.nodes.category": "fmcg"}),
    ("douyin_fission", {"run.consumers": 611}),  # several public platforms
    ("verify_bass", {"run.consumers": 257}),  # random mixing, nobody aware at the start
]


def _gamma(rng, mean: float, cv: float, n: int) -> np.ndarray:
    if cv <= 0:
        return np.full(n, mean)
    shape, scale = rules.gamma_shape_scale(mean, cv)
    return rng.gamma(shape, scale, size=n)


def _plain_traits(sc, names: list[str], n: int, rng) -> population.Traits:
    """The traits as NumPy draws them in one call each, in float64 (the oracle of
    `population.traits` and `population.traits_into`)."""
    pop = sc.population
    alpha = _gamma(rng, pop.price_sensitivity_mean, pop.price_sensitivity_cv, n)
    a, b = rules.beta_ab(pop.platform_trust_mean, pop.platform_trust_concentration)
    trust = (
        rng.beta(a, b, size=n)
        if 0 < pop.platform_trust_mean < 1
        else np.full(n, pop.platform_trust_mean)
    )
    slots = 1 + rng.poisson(rules.bounded_poisson_mean(pop.attention_slots_mean - 1.0), size=n)
    hunter = rng.random(n) < pop.hunter_share
    tolerance = _gamma(rng, pop.fatigue_tolerance_mean, pop.fatigue_tolerance_cv, n)
    dropout = np.zeros((len(names), n))
    for k, name in enumerate(names):
        cat = sc.categories[sc.brands[name].category]
        if 0 < cat.dropout_mean < 1:
            da, db = rules.beta_ab(cat.dropout_mean, cat.dropout_concentration)
            dropout[k] = rng.beta(da, db, size=n)
        else:
            dropout[k] = cat.dropout_mean
    return population.Traits(alpha, trust, slots, hunter, tolerance, dropout)


def _plain(sc, seed: int) -> dict[str, np.ndarray]:
    """The consumers' arrays as the construction drew them before chunks and float32."""
    streams = run_rng(seed)
    n, names = sc.run.consumers, list(sc.brands)
    cats = [c for c in sc.categories if any(b.category == c for b in sc.brands.values())]
    terms = platform_terms(sc)
    homes = np.zeros(n, dtype=np.int64)
    if len(terms) > 1:
        u = streams.setup(Purpose.PLATFORMS).random(n)
        homes = rules.home_platforms(u, np.array([p.shoppers for p in terms]))
    access = np.zeros((len(names), n), dtype=bool)
    for b, name in enumerate(names):
        bp = sc.brands[name]
        if bp.stores > 0:
            access[b] = streams.setup(Purpose.STORES, b).random(n) < bp.store_coverage
    need = np.zeros((n, len(cats)))
    for c, name in enumerate(cats):
        rng = streams.setup(Purpose.NEED_RATES, list(sc.categories).index(name))
        shape = rules.bounded_gamma_shape(sc.population.need_shape)
        mean = sc.categories[name].purchases_per_year / 365.0
        need[:, c] = rng.gamma(shape, 1.0, size=(n, 1))[:, 0] * (mean / shape)
    t = _plain_traits(sc, names, n, streams.setup(Purpose.TRAITS))
    catchments = [np.flatnonzero(row).astype(np.int32) for row in access]
    withheld = np.zeros((len(names), n), dtype=bool)
    for b, name in enumerate(names):
        bp = sc.brands[name]
        if bp.stores > 0 and bp.franchise_share > 0:
            u = streams.setup(Purpose.CHANNEL_OWNERS, b).random(n)
            withheld[b] = rules.withheld_by_owner(u, bp.franchise_share, bp.franchise_handover)
    if not any(bp.stores > 0 and bp.franchise_share > 0 for bp in sc.brands.values()):
        withheld = withheld[:, :0]  # nobody franchised: the engine allocates no consumers
    return {
        "home": homes.astype(np.int8),
        "store_access": access,
        "c_ptr": np.cumsum([0] + [c.size for c in catchments]).astype(np.int64),
        "c_idx": np.concatenate(catchments),
        "need_rate": need.astype(np.float32),
        "need_p": rules.daily_need_probability(need).astype(np.float32),
        "alpha": t.alpha.astype(np.float32),
        "trust": t.trust.astype(np.float32),
        "tolerance": t.tolerance.astype(np.float32),
        "slots": np.minimum(t.slots, 127).astype(np.int8),
        "hunter": t.hunter,
        "dropout": t.dropout.astype(np.float32),
        "withheld": withheld,
    }


@pytest.mark.parametrize("chunk", [None, 5, 64])
@pytest.mark.parametrize(("name", "over"), CASES)
def test_build_draws_what_the_plain_construction_drew(monkeypatch, chunk, name, over):
    if chunk is not None:  # chunk boundaries inside the population, and uneven tails
        monkeypatch.setattr(fast_engine, "_CHUNK", chunk)
    sc = load_scenario(name, {**over, "run.days": 5})
    model = FastModel(sc, run_rng(3))
    for field, expected in _plain(sc, 3).items():
        got = getattr(model.W, field)
        assert got.dtype == expected.dtype, field
        np.testing.assert_array_equal(got, expected, err_msg=field)
    homes = _plain(sc, 3)["home"]
    shoppers = np.bincount(homes, minlength=len(platform_terms(sc)))
    np.testing.assert_array_equal(model.G.pl_shoppers, shoppers)
    if chunk is not None:  # and the whole model is the one built without small chunks
        monkeypatch.undo()
        whole = FastModel(sc, run_rng(3))
        for field, value in whole.W._asdict().items():
            if isinstance(value, np.ndarray) and field not in ("draw_words", "draw_flags"):
                np.testing.assert_array_equal(getattr(model.W, field), value, err_msg=field)
        model.run()
        whole.run()
        assert model.ledger.to_frame().equals(whole.ledger.to_frame())


def test_traits_in_float32_are_the_float64_traits_rounded():
    sc = load_scenario("bench_three_brands", {"run.consumers": 300})
    names = list(sc.brands)
    wide = population.traits(sc, names, 300, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    narrow = population.traits(sc, names, 300, rng, dtype=np.float32)
    for field in ("alpha", "trust", "tolerance", "dropout"):
        got = getattr(narrow, field)
        assert got.dtype == np.float32, field
        np.testing.assert_array_equal(got, getattr(wide, field).astype(np.float32), field)
    np.testing.assert_array_equal(narrow.slots, wide.slots)
    np.testing.assert_array_equal(narrow.hunter, wide.hunter)
    # the same draws were taken: the generator goes on as after the float64 draw
    again = np.random.default_rng(8)
    population.traits(sc, names, 300, again)
    assert rng.random(3).tolist() == again.random(3).tolist()


def test_build_phases_are_timed():
    model = FastModel(load_scenario("bench_three_brands", {"run.consumers": 200}), run_rng(1))
    phases = model.build_phases
    for phase in ("consumers", "staff", "initial funnel", "start needs"):
        assert phase in phases and phases[phase] >= 0.0
    assert list(phases).index("consumers") < list(phases).index("start needs")
    for task in ("network", "traits", "needs", "stores"):
        assert model.build_tasks[task] >= 0.0


def test_traits_are_numpys_plain_draws():
    """`population.traits` (through `traits_into`, a chunk at a time) draws what NumPy's
    one-call gamma, beta, poisson and uniforms draw, and leaves the stream where they do."""
    sc = load_scenario("bench_three_brands", {"run.consumers": 1000})
    names = list(sc.brands)
    for chunk in (1, 7, 1000, 4096):
        rng, plain_rng = np.random.default_rng(5), np.random.default_rng(5)
        out = {
            "alpha": np.empty(1000),
            "trust": np.empty(1000),
            "slots": np.empty(1000, dtype=np.int64),
            "hunter": np.empty(1000, dtype=bool),
            "tolerance": np.empty(1000),
            "dropout": np.zeros((len(names), 1000)),
        }
        population.traits_into(sc, names, rng, out, chunk)
        plain = _plain_traits(sc, names, 1000, plain_rng)
        for field in population.TRAIT_FIELDS:
            np.testing.assert_array_equal(out[field], getattr(plain, field), field)
        assert rng.random(3).tolist() == plain_rng.random(3).tolist()
    whole = population.traits(sc, names, 1000, np.random.default_rng(5))
    plain = _plain_traits(sc, names, 1000, np.random.default_rng(5))
    for field in population.TRAIT_FIELDS:
        np.testing.assert_array_equal(getattr(whole, field), getattr(plain, field), field)


@pytest.mark.parametrize(("name", "over"), CASES)
def test_build_on_several_threads_is_the_build_on_one(monkeypatch, name, over):
    """The set-up tasks (network, traits, needs, stores, ...) draw their own streams: the
    model built on 2 or 3 threads is the one built on 1, array for array, run for run."""
    sc = load_scenario(name, {**over, "run.days": 20})
    monkeypatch.setattr(fast_engine, "PARALLEL_FROM", 0)
    monkeypatch.setattr(fast_engine, "_CHUNK", 64)  # many chunks: the threads interleave
    models = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(fast_engine, "BUILD_THREADS", threads)
        assert fast_engine.build_threads(sc.run.consumers) == threads
        models[threads] = FastModel(sc, run_rng(4))
    one = models.pop(1)
    for model in models.values():
        for field, value in one.W._asdict().items():
            if isinstance(value, np.ndarray) and field not in ("draw_words", "draw_flags"):
                np.testing.assert_array_equal(getattr(model.W, field), value, err_msg=field)
        model.run()
    one.run()
    for model in models.values():
        assert model.ledger.to_frame().equals(one.ledger.to_frame())


def test_small_populations_are_set_up_on_one_thread(monkeypatch):
    monkeypatch.setattr(fast_engine, "BUILD_THREADS", 4)
    assert fast_engine.build_threads(fast_engine.PARALLEL_FROM - 1) == 1
    assert fast_engine.build_threads(fast_engine.PARALLEL_FROM) == 4
    monkeypatch.setattr(fast_engine, "BUILD_THREADS", None)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    assert 1 <= fast_engine.build_threads(10**9) <= 4
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")  # a process held to one thread
    assert fast_engine.build_threads(10**9) == 1
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    assert fast_engine.build_threads(10**9) == 3


def test_a_failing_set_up_task_raises_after_the_others_end():
    ran = []

    def fails() -> None:
        raise ValueError("no draw")

    tasks = [("a", lambda: ran.append("a")), ("bad", fails), ("c", lambda: ran.append("c"))]
    for threads in (1, 2):
        ran.clear()
        with pytest.raises(ValueError, match="no draw"):
            fast_engine._run_tasks(tasks, threads)
        assert ran == ["a"] or sorted(ran) == ["a", "c"]


@pytest.mark.parametrize(
    "bit_generator", [np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64]
)
def test_funnel_order_is_numpys_permutation(bit_generator):
    """The initial funnel's int32 order is `rng.permutation(n)`, and the generator goes on
    alike (also from a state with half a 64-bit word cached)."""
    for n in (0, 1, 2, 3, 17, 1000, 70_001):
        a, b = np.random.Generator(bit_generator(n)), np.random.Generator(bit_generator(n))
        if n % 2:
            a.integers(0, 10, 3), b.integers(0, 10, 3)
        got, expected = population.funnel_order(n, a), b.permutation(n)
        assert got.dtype == (np.int32 if n else expected.dtype)
        np.testing.assert_array_equal(got, expected)
        assert a.random(4).tolist() == b.random(4).tolist()
