"""benchmarks/perf_fast.py: perf's samples attributed to the compiled engine's functions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "perf_fast.py"


@pytest.fixture(scope="module")
def perf_fast():
    spec = importlib.util.spec_from_file_location("perf_fast", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KERNEL = "_ZN3sim4fast7kernels12become_awareB4v117B54c8tJTIeFIjxB2IKSgE30WorldTypexx"
BOOKING = "_ZN3sim4fast10accounting10book_orderB4v501B54c8tJTIeFIjxB2IKSgE5ArrayIdLi2E"


def test_short_name_reads_the_python_name(perf_fast):
    assert perf_fast.short_name(KERNEL) == "become_aware"
    assert perf_fast.short_name(BOOKING) == "book_order"
    assert perf_fast.short_name("NRT_incref") == "NRT_incref"


def test_samples_fall_in_the_function_starting_at_or_below_them(perf_fast):
    symbols = {KERNEL: 0x1000, BOOKING: 0x2000, "NRT_incref": 0x9000}
    report = "\n".join(
        [
            "# Overhead  Shared Object  Symbol",
            "    30.00%  [JIT] tid 7   [.] 0x0000000000001000",
            "    20.00%  [JIT] tid 7   [.] 0x0000000000001fff",
            "    25.00%  [JIT] tid 7   [.] 0x0000000000002010",
            "    10.00%  [JIT] tid 7   [.] 0x0000000000009004",
            "     3.00%  [JIT] tid 7   [.] 0x0000000000000010",
            "     2.00%  [JIT] tid 7   [.] 0x0000000000909000",
            "    10.00%  libm.so.6     [.] __ieee754_log_fma",
            "",
        ]
    )
    shares = perf_fast.attribute(report, symbols)
    assert shares["become_aware"] == pytest.approx(50.0)
    assert shares["book_order"] == pytest.approx(25.0)
    assert shares["NRT_incref"] == pytest.approx(10.0)
    assert shares["(compiled, unknown)"] == pytest.approx(5.0)
    assert shares["__ieee754_log_fma"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("argv", "word"),
    [(["--days", "5", "2"], "--days"), (["--consumers", "0"], "--consumers")],
)
def test_bad_options_are_one_line_and_exit_2(perf_fast, capsys, argv, word):
    with pytest.raises(SystemExit) as stop:
        perf_fast.parse_args(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert word in err[-1]
