"""benchmarks/child.py: the benchmarks' one runner of a measurement in a subprocess."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import benchmark_module


@pytest.fixture(scope="module")
def child():
    with benchmark_module("child") as module:
        yield module


def run(child, code: str, timeout: float = 60):
    lines: list[str] = []
    out = child.run_child([sys.executable, "-c", code], {}, timeout, lines.append)
    return out, lines


def test_result_and_progress(child):
    out, lines = run(
        child, "print('working'); print('PARTIAL {\"n\": 1}'); print('RESULT {\"n\": 2}')"
    )
    assert out.ok and out.result == {"n": 2} and out.partial == {"n": 1}
    assert lines == ["working"] and out.error == "" and out.peak_rss > 0


def test_a_crash_says_its_last_line_and_keeps_the_partial(child):
    out, _ = run(child, "print('PARTIAL {\"n\": 1}'); raise SystemExit('broke here')")
    assert not out.ok and out.returncode == 1 and out.partial == {"n": 1}
    assert out.error == "exit code 1: broke here"


def test_a_timeout_stops_the_child(child):
    out, _ = run(child, "import time; print('started', flush=True); time.sleep(60)", timeout=1)
    assert out.timed_out and out.error == "not reached in 1 s" and out.wall < 30


def test_a_child_that_cannot_start(child, tmp_path):
    out = child.run_child([tmp_path / "no-such-python"], {}, 5, print)
    assert not out.ok and out.error.startswith("could not start")


def test_timeouts_read_in_minutes_from_two(child):
    assert child.not_reached(119) == "not reached in 119 s"
    assert child.not_reached(3600) == "not reached in 60 min"
