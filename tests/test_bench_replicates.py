"""Plumbing of benchmarks/bench_replicates.py (the benchmark itself never runs in the default
suite): the report of the two forms, its exit status, the option check, and (heavy) one tiny
round end to end, whose two forms must write the same bytes."""

from __future__ import annotations

import argparse
import json

import pytest

from tests.helpers import benchmark_module, performance_sandbox


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("bench_replicates", "child") as module:
        yield module


def outcome(bench, wall: float, threads: int = 2, code: int = 0, rss: int = 10**9):
    return bench.Outcome({"code": code, "threads": threads}, None, 0, wall, peak_rss=rss)


def test_the_report_gives_medians_the_ratio_and_the_bytes(bench) -> None:
    runs = {
        "1": [outcome(bench, 24.0), outcome(bench, 26.0)],
        "default": [outcome(bench, 17.0, rss=2 * 10**9), outcome(bench, 16.0)],
    }
    lines, status = bench.report(runs, True)
    assert status == 0
    assert lines[0].startswith("--threads 1       (1 thread): median 25.0 s (24.0, 26.0)")
    assert "(2 threads): median 16.5 s" in lines[1] and "peak RSS 2.00 GB" in lines[1]
    assert "one thread / default: 1.52x" in lines
    assert lines[-1] == "same bytes (effects.csv, metrics.parquet): yes"
    assert bench.report(runs, False)[1] == 1  # different bytes fail the benchmark


def test_a_failed_command_is_one_line_and_fails_the_benchmark(bench) -> None:
    runs = {"1": [outcome(bench, 3.0, code=2)], "default": [outcome(bench, 2.0)]}
    lines, status = bench.report(runs, None)
    assert status == 1 and lines[0] == "--threads 1: failed (exit 2)"
    assert not any("one thread / default" in line for line in lines)


def test_the_forms_are_the_command_with_and_without_threads(bench, tmp_path) -> None:
    assert bench.command("x", 5, 7, tmp_path, "1")[-2:] == ["--threads", "1"]
    assert "--threads" not in bench.command("x", 5, 7, tmp_path, "default")
    with pytest.raises(SystemExit) as exc:
        bench.main(["--rounds", "0"])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["--write"], False),
        (["--write", "--rounds", "3"], False),
        (["--write", "--rounds", "1"], True),
        (["--write", "--consumers", "2000"], True),
        (["--write", "--scenario", "beauty_guides"], True),
    ],
)
def test_write_only_records_the_readme_market(bench, capsys, argv, refused) -> None:
    if refused:
        assert bench.main(argv) == 2  # at once: nothing measured
        err = capsys.readouterr()
        assert err.out == "" and err.err.startswith("bench_replicates.py: --write: only for")
    else:
        rounds = int(argv[-1]) if len(argv) > 1 else 2
        args = argparse.Namespace(write=True, rounds=rounds, **bench.DEFAULTS)
        assert bench.write_refused(args) == ""


def test_write_records_the_forms_as_r(bench, tmp_path, monkeypatch) -> None:
    with benchmark_module("performance") as perf:
        performance_sandbox(perf, tmp_path, monkeypatch)
        runs = {
            "1": [outcome(bench, 24.0, rss=6 * 10**8), outcome(bench, 23.0)],
            "default": [outcome(bench, 17.0, rss=10**9), outcome(bench, 16.0)],
        }
        args = argparse.Namespace(**bench.DEFAULTS)
        bench.record(runs, args)
        record = json.loads(perf.RECORD.read_text())
        text = perf.README.read_text()
    assert set(record["measured"]) == {"r"}
    assert record["replicates"] == {
        "one": 23.5, "default": 16.5, "one_peak_gb": 1.0, "default_peak_gb": 1.0
    }  # fmt: skip
    assert [r[2] for r in record["rows"]] == [
        "23.5 s (24.0 / 23.0), peak 1.00 GB",
        "16.5 s (17.0 / 16.0), peak 1.00 GB",
        "1.42x",
    ]
    assert "replicates-default -->16 s<!--" in text and "replicates-one -->24 s<!--" in text


@pytest.mark.heavy
def test_one_tiny_round_end_to_end(bench, capsys) -> None:
    args = ["--scenario", "beauty_guides", "--consumers", "200", "--days", "5", "--rounds", "1"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "same bytes (effects.csv, metrics.parquet): yes" in out
    assert "--threads default (1 thread)" in out  # far below REPLICATE_THREADS_FROM
