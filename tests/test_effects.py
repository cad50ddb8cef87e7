"""Effects against a counterfactual twin: the arithmetic on hand-made ledgers, payback day on
constructed curves, exact zeros for an identical twin, and `measure` end to end on a small
market (its pairs equal `incremental` of the same runs; failures are recorded)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim import measure
from sim.counterfactual import twin
from sim.effects import (
    METRICS,
    Effects,
    EffectsError,
    incremental,
    payback_day,
    ratio_interval,
)
from sim.params import Scenario
from sim.runner import RunResult, run


def small_market() -> Scenario:
    """A guided brand and an ads-only one, 400 consumers, 60 days."""
    return Scenario.model_validate(
        {
            "name": "small",
            "run": {"days": 60, "consumers": 400, "seed": 11},
            "brands": {
                "guided": {
                    "stores": 2,
                    "store_visits_per_day": 6,
                    "strategy": {"guides_per_store": 1, "package_card_rate": 0.5},
                },
                "ads": {"strategy": {"private_ops": False, "ad_budget_per_day": 300}},
            },
        }
    )


# --------------------------------------------------------------------------- arithmetic

COLUMNS = [
    "gmv_total",
    "gross_profit",
    "cost_total",
    "cost_platform_commission",
    "new_customers_total",
    "new_members_total",
    "stock_customers",
    "stock_members",
]


def fake(rows: list[tuple]) -> RunResult:
    """A RunResult around a hand-written ledger: (day, brand, *COLUMNS)."""
    ledger = pd.DataFrame(rows, columns=["day", "brand", *COLUMNS])
    ledger["category"] = "default"
    return RunResult(Scenario(), 1, "fast", ledger, {})


def test_incremental_against_hand_computed_ledgers() -> None:
    a = fake(
        [
            (0, "x", 100.0, 60.0, 80.0, 5.0, 3, 1, 10, 2),
            (1, "x", 200.0, 120.0, 30.0, 10.0, 2, 2, 11, 4),
            (0, "y", 50.0, 30.0, 10.0, 2.5, 1, 0, 5, 0),
            (1, "y", 50.0, 30.0, 10.0, 2.5, 1, 0, 6, 0),
        ]
    )
    b = fake(
        [
            (0, "x", 100.0, 60.0, 20.0, 5.0, 3, 0, 10, 0),
            (1, "x", 150.0, 90.0, 20.0, 7.5, 2, 0, 10, 0),
            (0, "y", 50.0, 30.0, 10.0, 2.5, 1, 0, 5, 0),
            (1, "y", 60.0, 36.0, 10.0, 2.5, 2, 0, 7, 0),
        ]
    )
    d = incremental(a, b)
    x = d["x"]
    assert x["gmv"] == 50.0
    assert x["gross_profit"] == 30.0
    assert x["cost_total"] == 70.0
    # marketing cost leaves out the platform's commission: (110 - 15) - (40 - 12.5)
    assert x["marketing_cost"] == 67.5
    assert x["contribution"] == 30.0 - 70.0
    assert (x["new_customers"], x["new_members"]) == (0.0, 3.0)
    # stocks: the last day's census (customers count members too)
    assert (x["customers"], x["members"]) == (15.0 - 10.0, 4.0)
    assert x["incremental_roi"] == pytest.approx(30.0 / 67.5)
    # daily Δ contribution: day 0 (60-80)-(60-20) = -60, day 1 (120-30)-(90-20) = +20
    assert x["payback_day"] is None
    y = d["y"]
    assert y["gmv"] == -10.0 and y["customers"] == -1.0
    assert y["incremental_roi"] is None  # no marketing cost differs
    m = d["market"]
    for key in ("gmv", "gross_profit", "marketing_cost", "contribution", "customers"):
        assert m[key] == pytest.approx(x[key] + y[key])
    assert set(d) == {"x", "y", "market"} and set(x) == set(METRICS)


@pytest.mark.parametrize(
    ("curve", "day"),
    [
        ([-5, -3, 1, 2], 2),
        ([-1, 1, -1, 2, 3], 3),
        ([0, 1, 2], 0),  # never below 0: pays from day 0
        ([1, 2, -0.5], None),  # below 0 at the end: no payback within the horizon
        ([-1, 0, 0], 1),  # 0 counts as paid back
        ([], 0),
    ],
)
def test_payback_day_on_constructed_curves(curve: list[float], day: int | None) -> None:
    assert payback_day(curve) == day


def test_ratio_interval_is_a_fixed_bootstrap() -> None:
    num = np.array([10.0, 12.0, 8.0, 11.0])
    den = np.array([5.0, 5.0, 4.0, 6.0])
    point, low, high, n = ratio_interval(num, den)
    assert point == pytest.approx(41.0 / 20.0) and n == 4
    assert low <= point <= high
    assert ratio_interval(num, den) == (point, low, high, n)  # the same every time
    assert math.isnan(ratio_interval(num, np.zeros(4))[0])
    assert math.isnan(ratio_interval(num[:1], den[:1])[1])  # one pair: no interval


# --------------------------------------------------------------------------- measure


@pytest.fixture(scope="module")
def effects() -> Effects:
    return measure(small_market(), "no_private_ops", replicates=3)


def test_measure_table(effects: Effects) -> None:
    t = effects.table
    assert list(t.columns) == ["brand", "metric", "scenario", "twin", "diff", "low", "high", "n"]
    assert effects.units() == ["guided", "ads", "market"]
    assert list(t[t["brand"] == "guided"]["metric"]) == list(METRICS)
    assert (t["n"] == 3).all()
    assert effects.seeds == [11, 12, 13]
    assert effects.brands_changed == ["guided"]
    assert effects.twin.name == "small~no_private_ops"
    sums = t[~t["metric"].isin(["incremental_roi", "payback_day"])]
    assert np.allclose(sums["diff"], sums["scenario"] - sums["twin"])
    assert (sums["low"] <= sums["diff"] + 1e-9).all() and (
        sums["diff"] <= sums["high"] + 1e-9
    ).all()
    # the guided brand's private operations cost money: members and marketing cost rise
    assert effects.row("guided", "members")["diff"] > 0
    assert effects.row("guided", "marketing_cost")["low"] > 0
    json.dumps(effects.summary(), allow_nan=False)  # summary.json-ready


def test_measure_pairs_are_incremental_of_the_same_runs(effects: Effects) -> None:
    sc = effects.scenario
    d = incremental(run(sc, 12), run(twin(sc, "no_private_ops"), 12))
    rep = effects.replicates
    rep = rep[(rep["replicate"] == 1) & (rep["seed"] == 12)]
    for unit in ("guided", "ads", "market"):
        for metric in METRICS:
            got = rep[(rep["brand"] == unit) & (rep["metric"] == metric)]["diff"].item()
            want = d[unit][metric]
            assert (math.isnan(got) and want is None) or got == pytest.approx(want), (
                unit,
                metric,
            )


def test_identical_twin_gives_exact_zeros() -> None:
    sc = small_market()  # no referral tiers: no_fission changes nothing
    fx = measure(sc, "no_fission", replicates=2, seed=5)
    sums = fx.table[~fx.table["metric"].isin(["incremental_roi", "payback_day"])]
    assert (sums["diff"] == 0.0).all() and (sums["low"] == 0.0).all()
    assert (sums["high"] == 0.0).all()
    roi = fx.table[fx.table["metric"] == "incremental_roi"]
    assert roi["diff"].isna().all()  # Δ marketing cost is 0: undefined
    assert (fx.table[fx.table["metric"] == "payback_day"]["diff"] == 0).all()
    assert (fx.replicates.query("metric == 'contribution'")["diff"] == 0.0).all()


def test_base_run_is_reused() -> None:
    sc = small_market()
    base = run(sc, 11)
    calls: list[tuple[str, int]] = []

    def counting(scenario: Scenario, seed: int, engine: str) -> RunResult:
        calls.append((scenario.name, seed))
        return run(scenario, seed, engine)

    fx = measure(sc, "no_guides", replicates=2, base=base, run_fn=counting)
    assert ("small", 11) not in calls and len(calls) == 3
    again = measure(sc, "no_guides", replicates=2)
    pd.testing.assert_frame_equal(fx.table, again.table)


def test_failed_runs_are_recorded_not_fatal() -> None:
    sc = small_market()

    def flaky(scenario: Scenario, seed: int, engine: str) -> RunResult:
        if "~" in scenario.name and seed == 12:
            raise RuntimeError("boom")
        return run(scenario, seed, engine)

    fx = measure(sc, replicates=3, run_fn=flaky)
    assert list(fx.failed["side"]) == ["twin"] and list(fx.failed["seed"]) == [12]
    assert "RuntimeError: boom" in fx.failed["error"].item()
    assert (fx.table["n"] == 2).all()
    assert fx.summary()["failed"][0]["replicate"] == 1

    def broken(scenario: Scenario, seed: int, engine: str) -> RunResult:
        raise RuntimeError("always")

    with pytest.raises(EffectsError, match="always"):
        measure(sc, replicates=2, run_fn=broken)
