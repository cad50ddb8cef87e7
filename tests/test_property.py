"""Property-based test: valid scenarios never crash either engine.

Every shipped scenario is a base; on top of it Hypothesis sets random behavioural
parameters (from a few to all of the scenario's keys), each drawn from the schema
(`sim.params`) within its declared bounds, with the edge values 0, 1 and denormal-small
(5e-324, 1e-300, 1e-20) wherever the bounds allow them (in half the examples, edges only).
Runs are small (100-300 consumers, 20-60 days). For every drawn scenario that validates,
on either engine:

- the run finishes (any exception fails the test),
- the ledger's accounting identities hold (tests/ledger_checks.py),
- every KPI is a finite number or None (None: undefined, docs/KPIS.md).

A drawn combination that the schema refuses (a `ScenarioError`, e.g. ads that cost more
than the annual budget) is not a crash: it is discarded with `assume`.

The CI profile is deterministic (`derandomize=True`, no example database) and sized to run
in about a minute; `pytest -m heavy tests/test_property.py` runs 2,000 examples in four
shards of 500 with fixed seeds (`-k shard_0` etc. to run one).
"""

from __future__ import annotations

import math
import typing
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from pydantic import BaseModel

from sim import load_scenario
from sim.fast import FastModel
from sim.kpis import summarize
from sim.model import MarketModel
from sim.params import (
    HARD_LIMIT,
    BrandParams,
    CalendarParams,
    CategoryParams,
    ContentMix,
    InitialState,
    MarketParams,
    NetworkParams,
    PlatformParams,
    PopulationParams,
    StrategyParams,
    TouchEffects,
)
from sim.runner import ENGINES, run_rng
from sim.scenario import ScenarioError, shipped_scenarios
from tests.ledger_checks import check_identities, check_kpis_defined_or_none

MODELS = {"agents": MarketModel, "fast": FastModel}
BASES = shipped_scenarios()
TINY = (5e-324, 1e-300, 1e-20)
"""Denormal-small and tiny values: hazards and spreads that once overflowed a skip or
divided by zero."""
STAFF_MAX = {"stores": 4, "koc_count": 8, "employee_distributors": 8}
"""Upper ends for counts of people a brand places among the consumers, so that they fit in
a population of 100 (the schema leaves them unbounded)."""
INT_MAX = {"mean_degree": 12}
"""Friends per consumer stay well below the smallest population drawn."""
DENSITIES = (0.02, 0.1, 0.3, 1.0)
"""Share of a scenario's behavioural keys set in one example: a few, or all at once."""
SKIP = {"category"}
"""Fields that name another table rather than set a behaviour."""


def _bounds(info) -> tuple[float | None, float | None, bool, bool]:
    """(lower, upper, lower inclusive, upper inclusive) from a field's declared constraints."""
    lo = hi = None
    lo_in = hi_in = True
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo, lo_in = m.ge, True
        if getattr(m, "gt", None) is not None:
            lo, lo_in = m.gt, False
        if getattr(m, "le", None) is not None:
            hi, hi_in = m.le, True
        if getattr(m, "lt", None) is not None:
            hi, hi_in = m.lt, False
    if hi is not None and hi >= HARD_LIMIT:
        hi = None  # what the engines can count, not a range of behaviour: drawn as unbounded
    return lo, hi, lo_in, hi_in


def _within(x: float, lo, hi, lo_in: bool, hi_in: bool) -> bool:
    if lo is not None and (x < lo or (x == lo and not lo_in)):
        return False
    return not (hi is not None and (x > hi or (x == hi and not hi_in)))


def float_values(info, edges_only: bool = False) -> st.SearchStrategy[float]:
    """Values a float field may take: its edges (0, 1, tiny, its bounds) where allowed, and
    (unless `edges_only`) uniform draws within its bounds; an unbounded end stops at 10
    times the default (at least 1), so that money and rates stay in the ranges a scenario
    means."""
    lo, hi, lo_in, hi_in = _bounds(info)
    default = abs(float(info.default)) if isinstance(info.default, int | float) else 1.0
    span = max(10.0 * default, 1.0)
    low = lo if lo is not None else -span
    high = hi if hi is not None else (low + span if lo is not None else span)
    edges = [x for x in (0.0, 1.0, *TINY, low, high) if _within(x, lo, hi, lo_in, hi_in)]
    if edges_only and edges:
        return st.sampled_from(edges)
    inner = st.floats(
        low,
        high,
        exclude_min=not lo_in and lo is not None,
        exclude_max=not hi_in and hi is not None,
        allow_nan=False,
        allow_infinity=False,
    )
    return st.one_of(st.sampled_from(edges), inner) if edges else inner


def int_values(name: str, info) -> st.SearchStrategy[int]:
    """Values an int field may take, within its bounds; unbounded ends stop at twice the
    default (staff counts and friends: see STAFF_MAX, INT_MAX)."""
    lo, hi, lo_in, hi_in = _bounds(info)
    low = 0 if lo is None else (int(lo) if lo_in else int(lo) + 1)
    top = STAFF_MAX.get(name, INT_MAX.get(name, max(2 * int(info.default or 0), low + 10)))
    if hi is not None:
        top = min(top, int(hi) if hi_in else int(hi) - 1)
    return st.integers(low, max(low, top))


def shares_summing_to_one() -> st.SearchStrategy[dict[str, float]]:
    """The content mix: three shares on the simplex, corners included."""
    corner = st.sampled_from([(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)])
    inner = st.tuples(st.floats(0, 1), st.floats(0, 1)).map(
        lambda t: (t[0], (1 - t[0]) * t[1], 1 - t[0] - (1 - t[0]) * t[1])
    )
    return st.one_of(corner, inner).map(
        lambda t: dict(zip(("content", "service", "selling"), t, strict=True))
    )


def nested_initial_shares() -> st.SearchStrategy[dict[str, float]]:
    """Day-0 shares with members <= customers <= aware, edges included."""
    share = float_values(InitialState.model_fields["aware"])
    return (
        st.lists(share, min_size=3, max_size=3)
        .map(sorted)
        .map(lambda s: {"members": s[0], "customers": s[1], "aware": s[2]})
    )


def field_values(
    model: type[BaseModel], prefix: str, edges_only: bool = False
) -> dict[str, st.SearchStrategy]:
    """Dotted key -> strategy for every behavioural leaf of a parameter table (float fields
    at their edges only, with `edges_only`)."""
    out: dict[str, st.SearchStrategy] = {}
    for name, info in model.model_fields.items():
        key, ann = f"{prefix}.{name}", info.annotation
        if name in SKIP:
            continue
        if name == "start_day_of_year":  # the calendar: any day of the year may be day 0
            out[key] = st.integers(1, 365)
        elif ann is bool:
            out[key] = st.booleans()
        elif typing.get_origin(ann) is typing.Literal:
            out[key] = st.sampled_from(typing.get_args(ann))
        elif ann is int:
            out[key] = int_values(name, info)
        elif ann is float and name in STAFF_MAX:  # staff counts: numbers since they scale
            out[key] = st.floats(0, STAFF_MAX[name])
        elif ann is float:
            out[key] = float_values(info, edges_only)
        elif ann is ContentMix:
            out[key] = shares_summing_to_one()
        elif ann is InitialState:
            out[key] = nested_initial_shares()
            out.update(field_values(InitialState, key, edges_only))
            for share in ("aware", "customers", "members"):
                out.pop(f"{key}.{share}")
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(field_values(ann, key, edges_only))
        # lists (reward tiers, membership tiers) keep the base scenario's values
    return out


@cache
def candidates(path: Path, edges_only: bool = False) -> dict[str, st.SearchStrategy]:
    """Every behavioural key of a shipped scenario, with the strategy of its values."""
    sc = load_scenario(path)
    out: dict[str, st.SearchStrategy] = {}
    tables = [
        (NetworkParams, "network"),
        (PopulationParams, "population"),
        (TouchEffects, "touches"),
        (PlatformParams, "platform"),
        (MarketParams, "market"),
        (CalendarParams, "calendar"),  # its festivals keep the base scenario's
    ]
    tables += [(CategoryParams, f"categories.{c}") for c in sc.categories]
    tables += [(BrandParams, f"brands.{b}") for b in sc.brands]
    for model, prefix in tables:
        out.update(field_values(model, prefix, edges_only))
    assert StrategyParams.model_fields  # brands' strategies are reached through BrandParams
    return out


@st.composite
def cases(draw):
    """(base scenario, engine, seed, overrides) with small runs and random behaviour; in
    half the cases every float drawn is an edge value (0, 1, tiny, a bound), so that the
    limits are met often, also in combination."""
    path = draw(st.sampled_from(BASES))
    engine = draw(st.sampled_from(ENGINES))
    table = candidates(path, edges_only=draw(st.booleans()))
    density = draw(st.sampled_from(DENSITIES))
    keys = [k for k in sorted(table) if draw(st.floats(0.0, 1.0)) < density]
    overrides = {
        "run.consumers": draw(st.integers(100, 300)),
        "run.days": draw(st.integers(20, 60)),
    }
    for key in keys:
        overrides[key] = draw(table[key])
    return path, engine, draw(st.integers(0, 2**16)), overrides


def check_run(path: Path, engine: str, seed: int, overrides: dict) -> None:
    """Run one drawn scenario and check the properties (see the module docstring)."""
    try:
        sc = load_scenario(path, overrides)
    except ScenarioError:
        assume(False)  # refused by the schema: bad input, not a crash
    model = MODELS[engine](sc, rng=run_rng(seed))
    model.run()
    led = model.ledger.to_frame()
    check_identities(model, led)
    check_kpis_defined_or_none(summarize(led, sc.run.consumers))


COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}


@settings(max_examples=100, derandomize=True, **COMMON)
@given(case=cases())
def test_valid_scenarios_run_and_keep_the_identities(case):
    check_run(*case)


def _heavy_shard(shard: int):
    @pytest.mark.heavy
    @hypothesis_seed(shard)
    @settings(max_examples=500, **COMMON)
    @given(case=cases())
    def test(case):
        check_run(*case)

    test.__name__ = f"test_heavy_shard_{shard}"
    test.__doc__ = f"Heavy profile, shard {shard} of 4: 500 examples with seed {shard}."
    return test


test_heavy_shard_0, test_heavy_shard_1, test_heavy_shard_2, test_heavy_shard_3 = (
    _heavy_shard(k) for k in range(4)
)


def test_edges_are_drawn_where_the_schema_allows():
    """The strategies reach 0, 1 and the tiny values for a share, and respect bounds."""
    share = PopulationParams.model_fields["organic_awareness"]
    seen = set()

    @settings(max_examples=300, derandomize=True, **COMMON)
    @given(x=float_values(share))
    def collect(x):
        assert 0.0 <= x <= 1.0 and math.isfinite(x)
        seen.add(x)

    collect()
    assert {0.0, 1.0, 5e-324, 1e-300, 1e-20} <= seen
    theta = PlatformParams.model_fields["adstock_theta"]  # 0 <= theta < 1

    @settings(max_examples=200, derandomize=True, **COMMON)
    @given(x=float_values(theta))
    def bounded(x):
        assert 0.0 <= x < 1.0

    bounded()
