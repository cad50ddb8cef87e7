"""Plumbing of benchmarks/bench_fast.py at a tiny size (the benchmark itself never runs in
the test suite): one in-process measurement on the reference engine, the scaled-up
scenarios validate, the plan and the final table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from sim.scenario import load_scenario

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_fast.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_fast", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_fast"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_fast", None)


def test_one_tiny_measurement(bench):
    over = {"run.consumers": 200, "run.days": 5}
    spec = bench.Spec("t", "public_only", "agents", over, repeats=2, warmup=False)
    lines: list[str] = []
    res = bench.run_measurement(spec, echo=lines.append)
    assert (res.consumers, res.days, len(res.seconds)) == (200, 5, 2)
    assert res.consumer_days_per_s > 0
    assert res.peak_rss > 0 and res.bytes_per_consumer >= 0
    assert lines and "day 5/5" in lines[-1]


def test_scaled_scenarios_validate_at_target_sizes(bench):
    national = load_scenario(
        "national_guides", bench.scaled_overrides("national_guides", 15_000_000, 365, False)
    )
    brand = national.brands["bosideng"]
    assert (national.run.consumers, national.run.days) == (15_000_000, 365)
    assert brand.stores == 3600 and round(brand.stores * brand.strategy.guides_per_store) == 9000
    assert brand.store_visits_per_day == pytest.approx(6.6 * 7500)
    three = load_scenario(
        "bench_three_brands", bench.scaled_overrides("bench_three_brands", 1_000_000, 365, True)
    )
    assert len(three.brands) == 3 and three.run.consumers == 1_000_000
    assert len({b.category for b in three.brands.values()}) == 1
    small = load_scenario("bench_three_brands")
    for name, b in three.brands.items():
        assert b.stores == round(small.brands[name].stores * 1_000_000 / small.run.consumers)


def test_plan_and_table(bench):
    specs, judged = bench.plan(bench.parse_args([]))
    assert judged and [k for k, _ in specs] == ["a-ref", "a-cand", "b", "b2", "d"]
    assert specs[0][1].engine == "agents" and specs[1][1].engine == "fast"
    specs, judged = bench.plan(bench.parse_args(["--quick", "--skip-15m"]))
    assert not judged and [k for k, _ in specs] == ["a-ref", "a-cand", "b", "b2"]

    R = bench.Result
    results = {
        "a-ref": R("a-ref", "agents", 10_000, 90, seconds=[9.0, 10.0, 11.0]),
        "a-cand": R("a-cand", "fast", 10_000, 90, seconds=[0.1, 0.2, 0.3]),
        "b": R("b", "fast", 1_000_000, 365, seconds=[30.0], peak_rss=2_000_000_000,
               baseline_rss=400_000_000),
        "d": R("d", "fast", 15_000_000, 365, error="killed (SIGKILL: out of memory?)"),
    }  # fmt: skip
    rows = bench.summary_rows(results, judged=True)
    met = {what.split(",")[0]: (figure, ok) for what, figure, _, ok in rows}
    assert met["(a) speed-up fast / agents"] == ("50.0x", "yes")  # 10 s / 0.2 s
    assert met["(b) fast consumer-days/s"] == ("12.17M", "NO")
    assert met["(c) peak memory per consumer"][0].startswith("1,600 B")
    assert "killed" in met["(d) time and memory"][0]
    table = bench.format_table(rows)
    assert all(what in table for what, *_ in rows) and "target" in table
    quick = bench.summary_rows(results, judged=False)
    assert {ok for *_, ok in quick} <= {"", "n/a"}
