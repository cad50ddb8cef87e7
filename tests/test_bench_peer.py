"""Plumbing of benchmarks/bench_peer.py at a tiny size (the benchmark itself never runs in
the test suite, and Starsim is never a test dependency): the scaled Bass workload keeps its
p and q, one in-process Siyu cell, the tables, and a Starsim cell only where the
benchmark's Starsim environment already exists (skipped otherwise)."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import pytest

from sim.scenario import load_scenario
from tests.helpers import BENCHMARKS, benchmark_module

PATH = BENCHMARKS / "bench_peer.py"


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("bench_peer") as module:
        yield module


def test_scaled_workload_keeps_p_and_q(bench):
    small, big = bench.bass_parameters(4_000), bench.bass_parameters(10_000_000)
    assert small == pytest.approx((0.002857, 0.03), rel=1e-3)
    assert big == pytest.approx(small, rel=1e-12)
    sc = load_scenario("verify_bass", bench.bass_overrides(10_000_000))
    assert (sc.run.consumers, sc.run.days) == (10_000_000, 365)
    assert sc.brands["brand"].strategy.ad_budget_per_day == pytest.approx(400.0 * 2_500)
    assert bench.bass_curve(365, *small) == pytest.approx(0.99993, abs=1e-4)
    # the day-by-day process trails the closed form a little at mid-rise (0.616 vs 0.622)
    assert bench.bass_daily(91, *small) == pytest.approx(0.6159, abs=1e-4)
    assert bench.bass_curve(91, *small) == pytest.approx(0.6219, abs=1e-4)


def _fake_cell(bench, engine: str, n: int, seconds: float, share: float):
    return bench.Cell(
        engine, n, 365, build=[0.1 * seconds], run=[0.9 * seconds], cpu=[0.8 * seconds],
        shares=[[0.6, share]], baseline_rss=1_000, peak_rss=1_000 + 100 * n,
    )  # fmt: skip


def test_one_tiny_siyu_cell_in_process(bench):
    spec = bench.CellSpec("siyu", 400, days=91, repeats=2, warmup=False)
    lines: list[str] = []
    cell = bench.run_cell(spec, echo=lines.append)
    assert cell.ok and (cell.consumers, cell.days) == (400, 91)
    assert len(cell.run) == len(cell.build) == len(cell.cpu) == len(cell.shares) == 2
    assert cell.cpu_total > 0
    assert cell.total > 0 and cell.peak_rss > 0 and cell.bytes_per_consumer >= 0
    # after 91 days of p = 0.002857 and q = 0.03 about 62% have adopted (Bass); the year's
    # end is past this run, so it is not reported
    assert 0.4 < cell.share(91) < 0.8 and math.isnan(cell.share(365))
    assert len(lines) == 2 and "run 2/2" in lines[-1]


def test_table_ratio_and_target(bench):
    rows = []
    for n, siyu, ss_min in ((100_000, 1.0, 1.5), (1_000_000, 1.0, 2.5)):
        siyu_cell = _fake_cell(bench, "siyu", n, siyu, 0.9999)
        siyu_cell.cpu = [0.5 * siyu]  # a loaded machine: less CPU than wall time
        cells = {
            "siyu": siyu_cell,
            "starsim-min": _fake_cell(bench, "starsim-min", n, ss_min, 0.9998),
            "starsim-pool": bench.Cell("starsim-pool", n, 365, error="timed out after 9 s"),
        }
        ratio = ss_min / siyu
        judged = n in bench.JUDGED_AT
        met = (ratio >= bench.TARGET_RATIO) if judged else None
        bass, daily = {91: 0.62, 365: 0.9999}, {91: 0.6159, 365: 0.9999}
        rows.append(dict(consumers=n, days=365, p=0.002857, q=0.03, bass=bass, daily=daily,
                         cells=cells,
                         ratio=ratio, ratio_cpu=0.8 * ss_min / (0.5 * siyu), judged=judged,
                         met=met, peer_note=""))  # fmt: skip
    text = bench.format_peer(rows)
    lines = text.splitlines()
    row_1m = next(x for x in lines if x.startswith("1M "))
    assert "2.50x" in row_1m and "4.00x" in row_1m and ">= 2x" in row_1m
    assert row_1m.endswith("yes")
    row_100k = next(x for x in lines if x.startswith("100k "))
    assert "1.50x" in row_100k and ">= 2x" not in row_100k
    assert "failed (timed out" in row_100k and "100 / 100 / –" in row_100k
    assert any(x.startswith("1M ") and " 91 " in x and "0.6159" in x and "0.6000" in x
               for x in lines)  # fmt: skip
    as_json = bench.rows_json(rows)[1]["cells"]["siyu"]
    assert as_json["total_median"] == pytest.approx(1.0)
    assert as_json["cpu_median"] == pytest.approx(0.5)


def test_without_the_peer_siyu_alone(bench, monkeypatch):
    calls = []

    def fake_measure(spec, python, timeout, echo, threads):
        calls.append((spec.engine, spec.consumers, python))
        return _fake_cell(bench, spec.engine, spec.consumers, 1.0, 0.99)

    monkeypatch.setattr(bench, "measure_cell", fake_measure)
    monkeypatch.setattr(bench, "ensure_peer", lambda venv, echo: (None, "no network"))
    lines: list[str] = []
    rows = bench.peer_table([1_000], repeats=1, echo=lines.append)
    assert [c[0] for c in calls] == ["siyu"] and calls[0][2] == sys.executable
    assert "Starsim peer unavailable: no network; reporting Siyu alone" in lines
    assert math.isnan(rows[0]["ratio"]) and rows[0]["met"] is None
    assert bench.format_peer(rows).splitlines()[0] == "Starsim peer not measured: no network"


def test_a_cell_cut_short_keeps_its_finished_runs(bench, tmp_path):
    # a stand-in interpreter: one run reported, then the process dies
    done = bench.Cell("siyu", 500, 365, build=[0.1], run=[0.4], cpu=[0.5], shares=[[0.6, 1.0]])
    fake = tmp_path / "python"
    line = "PARTIAL " + json.dumps(dataclasses.asdict(done))
    fake.write_text(f"#!/bin/sh\necho 'warming up'\necho '{line}'\nexit 3\n")
    fake.chmod(0o755)
    spec = bench.CellSpec("siyu", 500, repeats=3)
    lines: list[str] = []
    cell = bench.measure_cell(spec, fake, timeout=60, echo=lines.append)
    assert cell.ok and cell.run == [0.4] and cell.note == "exit code 3: warming up: 1 of 3 runs"
    assert "warming up" in lines and bench.format_cell(cell).endswith(cell.note)
    fake.write_text("#!/bin/sh\necho 'no luck'\nexit 3\n")
    cell = bench.measure_cell(spec, fake, timeout=60, echo=lines.append)
    assert not cell.ok and cell.error == "exit code 3: no luck"


def test_bad_option_is_one_line_and_exit_2():
    out = subprocess.run(
        [sys.executable, str(PATH), "--sizes", "10k"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 2 and "--sizes" in out.stderr and "Traceback" not in out.stderr


def test_a_starsim_cell_needs_no_siyu(bench):
    """A Starsim cell runs under the Starsim environment's interpreter, where the package is
    not installed: its child imports nothing of `sim` before Starsim itself (here, with the
    package blocked and no Starsim, the child must fail on `starsim`, not on `sim`)."""
    spec = json.dumps(dataclasses.asdict(bench.CellSpec("starsim-min", 100, days=2, repeats=1)))
    code = (
        "import runpy, sys; sys.modules['sim'] = None; "
        f"sys.argv = [{str(PATH)!r}, '--cell', {spec!r}]; "
        f"runpy.run_path({str(PATH)!r}, run_name='__main__')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert "No module named 'starsim'" in out.stderr, out.stderr[-800:]
    assert "import of sim halted" not in out.stderr


def _starsim_cell(bench, engine: str):
    python = bench._venv_python(bench.default_venv())
    if bench._installed_version(python) != bench.PEER_VERSION:
        pytest.skip("no Starsim environment (created by the benchmark on first use)")
    p, q = bench.bass_parameters(1_000)
    spec = bench.CellSpec(engine, 1_000, days=91, repeats=1, p=p, q=q, warmup=False)
    cell = bench.measure_cell(spec, python, timeout=300, echo=lambda line: None)
    assert cell.ok, cell.error
    assert len(cell.run) == 1 and cell.version.startswith("starsim 3.7.2")
    # the same Bass process as Siyu's: about 62% adopted after 91 days
    assert 0.4 < cell.share(91) < 0.8


def test_starsim_minimal_module_where_its_environment_exists(bench):
    _starsim_cell(bench, "starsim-min")


@pytest.mark.heavy  # a second Starsim import (~5 s of CPU)
def test_starsim_mixing_pool_where_its_environment_exists(bench):
    _starsim_cell(bench, "starsim-pool")
