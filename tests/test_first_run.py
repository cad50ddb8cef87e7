"""Plumbing of benchmarks/first_run.py's `--functions` (the benchmark itself never runs in
the test suite): the per-process compile log its `sitecustomize` writes is valid Python, the
report of the logs names each process (a child the run forks among them), each process's
top-level compiles in time order, the longest compiles and the functions compiled in both,
and a negative count is refused."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.helpers import benchmark_module


@pytest.fixture(scope="module")
def first_run():
    with benchmark_module("first_run") as module:
        yield module


def test_the_process_log_is_python(first_run) -> None:
    ast.parse(first_run.PROCESS_LOG)


def test_the_report_of_two_processes(first_run, tmp_path: Path, capsys) -> None:
    logs = {
        "1.json": {
            "process": "run",
            "cpu": 20.0,
            "end": 22.0,
            "own": {"k.run_days": 4.0, "np.empty": 0.4, "k.step": 0.9},
            "first": {"k.run_days": 7.0, "np.empty": 1.1, "k.step": 7.1},
            "top": [["k.step", 1.1, 6.9], ["k.run_days", 7.0, 11.25]],
        },
        "2.json": {
            "process": "second",
            "cpu": 12.0,
            "end": 16.0,
            "own": {"k.purchase": 0.8, "np.empty": 0.2},
            "first": {"k.purchase": 4.0, "np.empty": 3.5},
            "top": [["k.purchase", 3.5, None]],  # ended while compiling (the day was loaded)
        },
        "3.json": {  # the figures' child the run forked: listed, never counted as a run
            "process": "forked",
            "cpu": 1.1,
            "end": 24.0,
            "own": {},
            "first": {},
        },
    }
    for name, record in logs.items():
        (tmp_path / name).write_text(json.dumps(record))
    first_run.by_process(tmp_path, 2)
    out = capsys.readouterr().out
    assert "run process: 20.0 s CPU, 5.3 s of it compiling 3 functions" in out
    assert "from 1.1 s to 7.1 s; ended at 22.0 s" in out
    assert "second process: 12.0 s CPU" in out
    top = out.split("longest own compiles")[1].split("compiled in both")[0]
    assert "k.run_days" in top and "k.step" in top and "k.purchase" not in top
    assert "1 functions, 0.6 s CPU in all" in out
    assert "0.40 + 0.20  np.empty" in out
    assert "forked process: 1.1 s CPU, 0.0 s of it compiling 0 functions; none" in out
    timeline = out.split("run process, its top-level")[1].split("second process, its top-level")[0]
    assert "  1.1 -   6.9  k.step\n" in timeline and "  7.0 -  11.2  k.run_days" in timeline
    assert "  3.5 - unfinished  k.purchase" in out


def test_a_negative_count_is_refused(first_run) -> None:
    with pytest.raises(SystemExit) as exc:
        first_run.main(["--functions", "-1"])
    assert exc.value.code == 2
