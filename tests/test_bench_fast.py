"""Plumbing of benchmarks/bench_fast.py at a tiny size (the benchmark itself never runs in
the test suite): one in-process measurement on the reference engine (with and without
events), the scaled-up scenarios validate, the plan, the fresh copy (f) runs from, the
peer's absence, the options' errors and the final table."""

from __future__ import annotations

import sys
import types

import pytest

from sim.scenario import load_scenario
from tests.helpers import benchmark_module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("bench_fast") as module:
        yield module


def test_one_tiny_measurement(bench):
    over = {"run.consumers": 200, "run.days": 5}
    spec = bench.Spec("t", "public_only", "agents", over, repeats=2, warmup=False)
    lines: list[str] = []
    res = bench.run_measurement(spec, echo=lines.append)
    assert (res.consumers, res.days, len(res.seconds)) == (200, 5, 2)
    assert res.consumer_days_per_s > 0
    assert res.peak_rss > 0 and res.bytes_per_consumer >= 0
    assert lines and "day 5/5" in lines[-1]
    assert len(res.ledger_sha256) == 64 and not res.events and res.event_rows == 0
    # rounds: each seed again, in turn (seeds 1, 2, 1, 2: the last run is seed 2's again)
    again = bench.run_measurement(
        bench.Spec("t", "public_only", "agents", over, repeats=2, rounds=2, warmup=False)
    )
    assert len(again.seconds) == 4 and again.ledger_sha256 == res.ledger_sha256


def test_a_measurement_in_regions(bench):
    over = {"run.consumers": 400, "run.days": 10}
    spec = bench.Spec("b@2r2", "beauty_guides", "fast", over, warmup=False, threads=2, regions=2)
    res = bench.run_measurement(spec)
    whole = bench.run_measurement(bench.Spec("b", "beauty_guides", "fast", over, warmup=False))
    assert res.regions == 2 and res.consumers == 400 and len(res.seconds) == 1
    assert res.ledger_sha256 != whole.ledger_sha256  # another draw of the same market
    assert res.ledger_sha256 == bench.run_measurement(spec).ledger_sha256


def test_events_are_written_and_leave_the_ledger_alone(bench):
    over = {"run.consumers": 300, "run.days": 20}
    off = bench.run_measurement(bench.Spec("b", "beauty_guides", "agents", over, warmup=False))
    on = bench.run_measurement(
        bench.Spec("g", "beauty_guides", "agents", over, warmup=False, events=True)
    )
    assert on.events and on.event_rows > 0 and on.event_bytes > 0
    assert on.ledger_sha256 == off.ledger_sha256
    assert (on.gmv, on.members) == (off.gmv, off.members)


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
    dense = bench.national_density("national_guides", 50_000_000)
    fifty = load_scenario(
        "national_guides", bench.scaled_overrides("national_guides", 50_000_000, 365, dense)
    )
    brand = fifty.brands["bosideng"]
    assert fifty.run.consumers == 50_000_000 and brand.stores == 12_000  # 1 per 4,167
    assert round(brand.stores * brand.strategy.guides_per_store) == 30_000


def test_plan(bench):
    specs, judged = bench.plan(bench.parse_args(["--threads", "1,2", "--regions", "2"]))
    keys = [k for k, _ in specs]
    assert judged and keys == [
        "a-ref", "a-cand", "b", "g", "b@2", "b@2r2", "b2", "b2@2", "b2@2r2", "d", "d@2",
        "d@2r2", "e", "e@2", "e@2r2",
    ]  # fmt: skip
    by = dict(specs)
    assert by["d@2r2"].regions == 2 and by["d@2r2"].threads == 2 and by["d@2"].regions == 1
    assert by["d@2r2"].overrides == by["d"].overrides
    assert by["a-ref"].engine == "agents" and by["a-cand"].engine == "fast"
    assert by["b@2"].threads == 2 and by["b"].threads == 1 and by["a-cand"].threads == 1
    assert by["g"].events and by["g"].overrides == by["b"].overrides and not by["b"].events
    assert by["e"].overrides["run.consumers"] == 50_000_000
    assert by["e"].overrides["brands.bosideng.stores"] == 12_000
    few = ["--quick", "--skip-15m", "--skip-50m", "--skip-events", "--threads", "1"]
    specs, judged = bench.plan(bench.parse_args([*few, "--regions", "1"]))
    assert not judged and [k for k, _ in specs] == ["a-ref", "a-cand", "b", "b2"]
    specs, _ = bench.plan(bench.parse_args(["--quick", "--threads", "2,2,1"]))
    assert [k for k, _ in specs][2:5] == ["b@2", "g@2", "b"]
    assert bench.thread_counts(bench.parse_args([])) == sorted({1, bench.usable_cores()})
    assert bench.thread_counts(bench.parse_args(["--engine", "agents"])) == [1]
    assert bench.regions_of(bench.parse_args([])) == bench.usable_cores()
    assert bench.regions_of(bench.parse_args(["--engine", "agents"])) == 1
    assert bench.write_refused(bench.parse_args(["--write", "--regions", "1"]))


@pytest.mark.parametrize(
    "argv, option",
    [
        (["--threads", "0"], "--threads"),
        (["--regions", "0"], "--regions"),
        (["--threads", "1,x"], "--threads"),
        (["--repeats", "0"], "--repeats"),
        (["--timeout-50m", "-5"], "--timeout-50m"),
        (["--fifty-consumers", "many"], "--fifty-consumers"),
    ],
)
def test_bad_options_say_one_line(bench, capsys, argv, option):
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and option in err and len(err.strip().splitlines()) == 1


def test_fresh_copy_holds_no_compiled_file(bench, tmp_path):
    copy = bench.fresh_copy(tmp_path / "siyu")
    assert (copy / "sim" / "fast" / "kernels.py").is_file()
    assert (copy / "scenarios" / "beauty_guides.toml").is_file()
    assert (copy / "pyproject.toml").is_file()
    assert not list(copy.rglob("__pycache__")) and not list(copy.rglob("*.pyc"))
    assert bench.cached_entries(copy, tmp_path / "absent") == 0
    (copy / "sim" / "fast" / "__pycache__").mkdir()
    (copy / "sim" / "fast" / "__pycache__" / "kernels.run_days-1.py311.nbi").touch()
    assert bench.cached_entries(copy) == 1
    cmd = bench.first_run_command()
    assert cmd[0] == sys.executable and cmd[-2:] == ["run", "scenarios/beauty_guides.toml"]


def _peer_row(n: int, siyu: float, build: float, starsim: float | None) -> dict:
    """A row as `bench_peer.peer_table` gives it: cells with their median seconds, and the
    ratio (NaN where a side could not run)."""
    cells = {"siyu": types.SimpleNamespace(total=siyu, build_median=build)}
    if starsim is not None:
        cells["starsim-min"] = types.SimpleNamespace(total=starsim, build_median=0.0)
    ratio = starsim / siyu if starsim is not None else float("nan")
    return {"consumers": n, "cells": cells, "ratio": ratio}


def test_missing_peer_is_one_line(bench, monkeypatch):
    monkeypatch.setitem(sys.modules, "bench_peer", None)  # import fails: not there
    lines: list[str] = []
    assert bench.measure_peer([100], 1, 10.0, lines.append) == ([], "")
    assert len(lines) == 1 and "skipped" in lines[0]


def test_peer_rows_come_from_bench_peer(bench, monkeypatch):
    calls: list[tuple] = []

    def peer_table(sizes, repeats, timeout, echo):
        calls.append((sizes, repeats, timeout))
        return [_peer_row(n, 1.0, 0.1, 2.5) for n in sizes]

    fake = types.ModuleType("bench_peer")
    fake.peer_table = peer_table
    fake.format_peer = lambda rows: f"{len(rows)} peer rows"
    monkeypatch.setitem(sys.modules, "bench_peer", fake)
    rows, text = bench.measure_peer([1_000_000, 10_000_000], 3, 60.0, lambda line: None)
    assert calls == [([1_000_000, 10_000_000], 3, 60.0)] and text == "2 peer rows"
    table = bench.summary_rows({}, judged=True, peer=rows)
    assert [(r[2][:5], r[3], r[4]) for r in table] == [("2.50x", ">= 2x", "yes")] * 2

    def broken(sizes, repeats, timeout, echo):
        raise RuntimeError("starsim would not build")

    fake.peer_table = broken
    lines: list[str] = []
    assert bench.measure_peer([100], 1, 1.0, lines.append) == ([], "")
    assert "starsim would not build" in lines[-1]


def test_table(bench):
    R = bench.Result
    results = {
        "a-ref": R("a-ref", "agents", 10_000, 90, seconds=[9.0, 10.0, 11.0]),
        "a-cand": R("a-cand", "fast", 10_000, 90, seconds=[0.1, 0.2, 0.3]),
        "b": R("b", "fast", 1_000_000, 365, seconds=[30.0], peak_rss=2_000_000_000,
               baseline_rss=400_000_000, ledger_sha256="x", gmv=1e9, members=1e5),
        "g": R("g", "fast", 1_000_000, 365, seconds=[33.0], peak_rss=2_400_000_000,
               baseline_rss=400_000_000, ledger_sha256="x", events=True, event_rows=5_000_000,
               event_bytes=40_000_000),
        "b@2": R("b@2", "fast", 1_000_000, 365, seconds=[20.0], threads=2, ledger_sha256="y"),
        "b@2r2": R("b@2r2", "fast", 1_000_000, 365, seconds=[15.0], threads=2, regions=2,
                   gmv=1.01e9, members=0.99e5),
        "d": R("d", "fast", 15_000_000, 365, error="killed (SIGKILL: out of memory?)"),
        "e": R("e", "fast", 50_000_000, 365, error="not reached in 60 min", timed_out=True),
    }  # fmt: skip
    first = bench.FirstRun(
        first_seconds=3.5,
        warm_seconds=3.0,
        cold_seconds=19.0,
        one_process_seconds=28.5,
        install_seconds=27.0,
        cache_files=12,
    )
    peer = [_peer_row(1_000_000, 0.5, 0.1, 1.2), _peer_row(10_000_000, 9.0, 1.0, None)]
    rows = bench.summary_rows(results, judged=True, first=first, peer=peer)
    assert all(len(r) == 5 for r in rows)
    met = {
        (what.split(",")[0], threads): (figure, ok)
        for what, threads, figure, _, ok in rows
        if not what.endswith("in 2 regions")
    }
    assert met[("(a) speed-up fast / agents", "1")] == ("50.0x", "yes")  # 10 s / 0.2 s
    assert met[("(b) fast consumer-days/s", "1")] == ("12.17M", "NO")
    assert met[("(b) fast consumer-days/s", "2")] == ("18.25M", "NO")
    assert met[("(c) peak memory per consumer", "1")][0].startswith("1,600 B")
    assert met[("(b) speed 2 threads / 1 thread", "2")] == ("1.50x (ledger differs)", "")
    regional = "(b) fast consumer-days/s, 1,000,000 consumers x 365 d, 3 brands, in 2 regions"
    assert [(f, ok) for what, t, f, _, ok in rows if what == regional] == [("24.33M", "NO")]
    assert met[("(b) speed in 2 regions / the market whole on 1 thread", "2")] == (
        "2.00x (GMV +1.00%, members -1.00%: another draw of the market)",
        "",
    )
    assert not [w for w, *_ in rows if w.startswith("(c)") and "regions" in w]  # whole only
    assert met[("(d) time and memory", "1")] == ("failed: killed (SIGKILL: out of memory?)", "NO")
    assert met[("(e) time and memory", "1")] == ("not reached in 60 min", "NO")
    assert (
        met[("(f) first run on a fresh install: siyu run scenarios/beauty_guides.toml", "")][1]
        == "yes"
    )
    assert met[("(f) first run on a fresh install: siyu run scenarios/beauty_guides.toml", "")] == (
        "3.5 s",
        "yes",
    )
    install = "(f) the install's compile (pip install -e .: python -m sim.fast)"
    assert met[(install, "")] == ("27.0 s (12 compiled entries cached)", "")
    cold = "(f) first run the install did not compile (SIYU_COMPILE_AT_INSTALL=0)"
    assert met[(cold, "")] == ("19.0 s", "")
    one = "(f) the same compiled in one process (SIYU_COMPILE_ASIDE=0)"
    assert met[(one, "")] == ("28.5 s; two processes 1.50x as fast", "")
    assert met[("(g) run time", "1")][0].startswith("1.10x")
    assert met[("(g) peak memory", "1")][0].startswith("1.25x")
    assert met[("(g) ledger with events = without", "1")] == ("same", "yes")
    peer_rows = [(figure, ok) for what, _, figure, _, ok in rows if what.startswith("(peer)")]
    assert peer_rows[0] == (peer_rows[0][0], "yes") and peer_rows[0][0].startswith("2.40x")
    assert peer_rows[1] == ("not measured: a side could not run", "n/a")
    table = bench.format_table(rows)
    assert all(what in table for what, *_ in rows) and "threads" in table.splitlines()[0]
    quick = bench.summary_rows(results, judged=False, first=first, peer=peer)
    judged_anyway = {what.split(",")[0] for what, *_, ok in quick if ok not in ("", "n/a")}
    assert judged_anyway == {
        "(f) first run on a fresh install: siyu run scenarios/beauty_guides.toml",
        "(g) ledger with events = without",
    }
    # a crash fails the benchmark; a timeout (e) is a target not reached
    assert bench.failed(results, first)
    del results["d"]
    assert not bench.failed(results, first)
    results["g"].ledger_sha256 = "z"
    assert bench.failed(results, first)


def test_timeouts_read_as_not_reached(bench):
    assert bench.not_reached(3600) == "not reached in 60 min"
    assert bench.not_reached(30) == "not reached in 30 s"
