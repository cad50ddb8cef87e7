"""Plumbing of benchmarks/bench_build.py at a tiny size (the benchmark itself never runs in
the test suite): one in-process cell, every workload's scenario validates, the table."""

from __future__ import annotations

import pytest

from sim.scenario import load_scenario
from tests.helpers import benchmark_module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("bench_build", "bench_fast") as module:
        yield module


def test_one_tiny_cell(bench):
    cell = bench.measure_cell("three", 400, 2)
    assert cell["consumers"] == 400 and len(cell["totals"]) == 2
    phases = cell["phases"]
    for phase in ("consumers", "staff", "initial funnel", "start needs"):
        assert phase in phases and phases[phase] >= 0.0
    for task in ("network", "traits", "needs"):
        assert cell["tasks"][task] >= 0.0
    assert sum(phases.values()) <= max(cell["totals"]) + 1e-6
    table = bench.format_cell(cell)
    assert "three · 400 consumers" in table and "initial funnel" in table
    assert "└ traits" in table


@pytest.mark.parametrize("workload", ["bass", "national", "three", "three-national"])
def test_every_workload_validates(bench, workload):
    name, over = bench.overrides(workload, 10_000_000)
    sc = load_scenario(name, over)
    assert sc.run.consumers == 10_000_000


def test_bad_arguments_exit_cleanly(bench):
    with pytest.raises(SystemExit) as err:
        bench.parse_args(["--repeats", "0"])
    assert err.value.code == 2
    with pytest.raises(SystemExit) as err:
        bench.parse_args(["--threads", "0"])
    assert err.value.code == 2
    with pytest.raises(ValueError, match="unknown workload"):
        bench.overrides("nowhere", 10)
