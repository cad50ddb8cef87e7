"""The engine protocol (sim.protocol): both engines implement it; their snapshots have the same
structure; on day 0 they show the same market where both draw it from the same numbers;
after some days both keep the same invariants; a snapshot changes nothing; a strategy
change takes one path (re-staffing only when a staffing field changes)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from sim.params import RewardTier, Scenario
from sim.protocol import ENGINES, Engine, build_engine
from sim.runner import run_rng
from sim.scenario import load_scenario
from sim.snapshots import STAFFING_FIELDS, BrandSnapshot, ConsumerSnapshot, restaffs
from sim.vocab import MEMBER_CHANNELS, STATE_NAMES, MemberChannel, State

N = 300


def small(name: str, days: int = 30, **overrides: Any) -> Scenario:
    return load_scenario(name, {"run.consumers": N, "run.days": days, **overrides})


def pair(sc: Scenario, seed: int = 3) -> dict[str, Engine]:
    return {name: build_engine(name, sc, run_rng(seed)) for name in ENGINES}


def differences(x: Any, y: Any, path: str = "", skip: tuple[str, ...] = ()) -> list[str]:
    """Where two snapshots differ (floats to float32 precision: the fast engine keeps
    per-consumer floats in float32)."""
    if type(x) is not type(y):
        return [f"{path}: {type(x).__name__} vs {type(y).__name__}"]
    if dataclasses.is_dataclass(x):
        out = []
        for f in dataclasses.fields(x):
            if f.name not in skip:
                out += differences(getattr(x, f.name), getattr(y, f.name), f"{path}.{f.name}", skip)
        return out
    if isinstance(x, tuple):
        if len(x) != len(y):
            return [f"{path}: {len(x)} vs {len(y)} items"]
        pairs = enumerate(zip(x, y, strict=True))
        return [d for k, (u, v) in pairs for d in differences(u, v, f"{path}[{k}]", skip)]
    if isinstance(x, float):
        return [] if math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9) else [f"{path}: {x} vs {y}"]
    return [] if x == y else [f"{path}: {x!r} vs {y!r}"]


def leaf_types(x: Any, path: str = "", out: dict[str, set[str]] | None = None) -> dict:
    """The type of every leaf of a snapshot, by field path (tuple items share a path;
    None, an optional field left empty, is left out): the snapshot's structure."""
    out = {} if out is None else out
    if dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            leaf_types(getattr(x, f.name), f"{path}.{f.name}", out)
    elif isinstance(x, tuple):
        out.setdefault(path, set()).add("tuple")
        for v in x:
            leaf_types(v, f"{path}[]", out)
    elif x is not None:
        out.setdefault(path, set()).add(type(x).__name__)
    return out


@pytest.mark.parametrize("name", ENGINES)
def test_both_engines_implement_the_protocol(name: str) -> None:
    engine = build_engine(name, small("beauty_guides", days=5), run_rng(1))
    assert isinstance(engine, Engine)
    assert engine.today == 0 and engine.days == 5 and engine.n_consumers == N
    assert engine.brand_names == ["brand"]
    assert isinstance(engine.brand_snapshot(0), BrandSnapshot)
    assert isinstance(engine.consumer_snapshot(0), ConsumerSnapshot)
    for row in (engine.states(0), engine.member_channels(0), engine.member_guides(0)):
        assert row.shape == (N,)
        with pytest.raises(ValueError, match="read-only"):
            row[0] = 1
    with pytest.raises(ValueError, match="unknown engine 'warp'"):
        build_engine("warp", small("beauty_guides", days=5))


def test_day_zero_is_the_same_market_on_both_engines() -> None:
    """Network, staff (guides, their skills and members), funnel states, memberships and
    every consumer's standing agree on day 0: both engines draw the day-0 market from the
    same streams (sim.streams; Mesa seeds itself from a stream of its own, and need rates
    are drawn per category, so the categories no brand sells change nothing)."""
    members = {
        f"brands.brand.initial.{k}": v
        for k, v in (("aware", 0.2), ("customers", 0.08), ("members", 0.05))
    }
    sc = small("beauty_guides", **members)
    assert len(sc.categories) > len({b.category for b in sc.brands.values()}), "unsold too"
    engines = pair(sc)
    ref, fast = engines["agents"], engines["fast"]
    assert np.array_equal(ref.network.indptr, fast.network.indptr)
    assert np.array_equal(ref.network.indices, fast.network.indices)
    assert ref.brand_snapshot(0).guides, "the scenario has guides"
    assert differences(ref.brand_snapshot(0), fast.brand_snapshot(0)) == []
    for row in ("states", "member_channels", "member_guides"):
        assert np.array_equal(getattr(ref, row)(0), getattr(fast, row)(0)), row
    members = 0
    for i in range(N):
        a, f = ref.consumer_snapshot(i), fast.consumer_snapshot(i)
        assert differences(a, f, f"consumer {i}") == []
        members += a.brands[0].membership is not None
    assert members > 0


@pytest.mark.parametrize("scenario", ["beauty_guides", "fmcg_small_b", "bench_three_brands"])
def test_snapshots_have_the_same_structure_on_both_engines(scenario: str) -> None:
    engines = pair(small(scenario, days=12))
    for e in engines.values():
        for _ in range(12):
            e.step()
    ref, fast = engines["agents"], engines["fast"]
    assert ref.brand_names == fast.brand_names
    shapes = {}
    for name, e in engines.items():
        seen: dict[str, set[str]] = {}
        for b in range(len(e.brand_names)):
            leaf_types(e.brand_snapshot(b), "brand", seen)
        for i in range(N):
            leaf_types(e.consumer_snapshot(i), "consumer", seen)
        assert all(len(kinds) == 1 for kinds in seen.values()), seen
        shapes[name] = seen
    assert shapes["agents"] == shapes["fast"]
    assert "consumer.brands[].membership.engagement" in shapes["fast"]


def check_invariants(engine: Engine) -> None:
    """What must hold between an engine's arrays, snapshots and ledger at any day."""
    day = engine.today - 1
    led = engine.ledger.data
    for b, name in enumerate(engine.brand_names):
        states = engine.states(b)
        channels = engine.member_channels(b)
        guides = engine.member_guides(b)
        counts = np.bincount(states, minlength=len(State))
        for s, word in enumerate(STATE_NAMES):
            assert counts[s] == led[f"stock_{word}"][day, b], (name, word)
        assert np.array_equal(channels >= 0, states == State.MEMBER)
        for c, word in enumerate(MEMBER_CHANNELS):
            assert (channels == c).sum() == led[f"stock_members_{word}"][day, b], word
        assert np.all(channels[guides >= 0] == MemberChannel.GUIDE)
        brand = engine.brand_snapshot(b)
        assert brand.name == name and brand.strategy == engine.strategy(b)
        assert len(brand.guides) == led["stock_guides"][day, b]
        assert len(brand.distributors) == led["stock_koc_nodes"][day, b]
        assert brand.fake_members == led["stock_fake_members"][day, b]
        for k, g in enumerate(brand.guides):
            assert g.members == tuple(np.flatnonzero(guides == k).tolist())
            assert len(g.members) <= brand.strategy.guide_capacity
            assert 0 <= g.store < max(brand.stores, 1)
        muted = 0
        for i in [*np.flatnonzero(states == State.MEMBER).tolist(), int(np.argmin(states))]:
            c = engine.consumer_snapshot(i).brands[b]
            assert c.state == states[i]
            assert (c.last_purchase is None) == (c.purchases == 0)
            m = c.membership
            assert (m is None) == (states[i] != State.MEMBER)
            if m is not None:
                assert m.channel == channels[i] and m.joined <= engine.today
                assert (m.guide if m.guide is not None else -1) == guides[i]
                assert 0.0 <= m.engagement <= 1.0 and m.fatigue >= 0.0
                muted += m.muted
        assert muted == led["stock_muted"][day, b]


@pytest.mark.parametrize(
    "scenario", ["beauty_guides", "fmcg_small_b", "guides_quota", "bench_three_brands"]
)
def test_after_some_days_both_engines_keep_the_invariants(scenario: str) -> None:
    for engine in pair(small(scenario, days=40)).values():
        for _ in range(40):
            engine.step()
        check_invariants(engine)


@pytest.mark.parametrize("name", ENGINES)
def test_taking_snapshots_changes_nothing(name: str) -> None:
    """Snapshots fade memberships in the copy, never in the engine: a run that is watched
    writes the same ledger as one that is not."""
    sc = small("beauty_guides", days=30)
    watched, alone = build_engine(name, sc, run_rng(4)), build_engine(name, sc, run_rng(4))
    for day in range(30):
        watched.step()
        alone.step()
        if day % 7 == 3:
            for i in range(N):
                watched.consumer_snapshot(i)
            snap = watched.brand_snapshot(0)
            snap.strategy.ad_budget_per_day = 1e6  # a copy: the engine keeps its own
    for column, data in alone.ledger.data.items():
        assert np.array_equal(watched.ledger.data[column], data), column


@pytest.mark.parametrize("name", ENGINES)
def test_a_strategy_change_restaffs_only_when_staffing_changes(name: str) -> None:
    engine = build_engine(name, small("beauty_guides", days=60), run_rng(2))
    for _ in range(20):
        engine.step()
    before = engine.brand_snapshot(0)
    assert before.guides and any(g.members for g in before.guides)
    # a lever that is not staffing: new levers, same guides, same members, same clock
    cheaper = before.strategy.model_copy(update={"ad_budget_per_day": 10.0})
    assert not restaffs(before.strategy, cheaper)
    engine.set_strategy(0, cheaper)
    after = engine.brand_snapshot(0)
    assert after.strategy == cheaper and after.guides == before.guides
    assert after.strategy_since == before.strategy_since == 0
    # a staffing lever: new staff, the strategy's clock restarts tomorrow
    more = cheaper.model_copy(update={"guides_per_store": cheaper.guides_per_store * 2})
    assert restaffs(cheaper, more)
    engine.set_strategy(0, more)
    staffed = engine.brand_snapshot(0)
    assert len(staffed.guides) == round(staffed.stores * more.guides_per_store)
    assert staffed.strategy_since == 21
    assert all(not g.members for g in staffed.guides)  # members of the old guides: the group
    # restaff=True (adopting a peer's strategy) re-staffs even without a staffing change
    engine.step()
    engine.set_strategy(0, more, restaff=True)
    assert engine.brand_snapshot(0).strategy_since == 22
    # more reward tiers than the brand started with (the workshop's rewards lever)
    tiers = [RewardTier(referrals=k, reward=10.0 * k) for k in (1, 3, 5)]
    engine.set_strategy(0, more.model_copy(update={"referral_tiers": tiers}))
    for _ in range(5):
        engine.step()
    assert engine.strategy(0).referral_tiers == tiers
    check_invariants(engine)


@pytest.mark.parametrize("name", ENGINES)
def test_new_platform_terms_apply_from_the_next_day(name: str) -> None:
    """set_platform: the same terms change nothing (not a draw, not a byte); a dearer CPM
    and a higher take rate show in the ledger from the next day on, and not before."""
    sc = small("beauty_guides", days=30)
    runs = {k: build_engine(name, sc, run_rng(4)) for k in ("alone", "same", "dear")}
    for engine in runs.values():
        for _ in range(10):
            engine.step()
    runs["same"].set_platform(sc.platform)
    dear = sc.platform.model_copy(update={"base_cpm": 2 * sc.platform.base_cpm, "take_rate": 0.2})
    runs["dear"].set_platform(dear)
    for engine in runs.values():
        for _ in range(20):
            engine.step()
    alone, same, changed = (runs[k].ledger.data for k in ("alone", "same", "dear"))
    for column, data in alone.items():
        assert np.array_equal(same[column], data), column
        assert np.array_equal(changed[column][:10], data[:10]), column
    assert np.allclose(changed["cpm"][10], 2 * alone["cpm"][10], rtol=1e-12)
    sold = changed["gmv_platform"][10:] > 0
    assert sold.any()
    rate = changed["cost_platform_commission"][10:][sold] / changed["gmv_platform"][10:][sold]
    assert np.allclose(rate, 0.2)


def test_staffing_fields_are_strategy_fields() -> None:
    from sim.params import StrategyParams

    assert set(STAFFING_FIELDS) <= set(StrategyParams.model_fields)
