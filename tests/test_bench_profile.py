"""benchmarks/profile_fast.py at a tiny size: its timed copy of the day is the day (same
ledger, same state), every phase of `step` has a row, and the rows add up to the day."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario
from sim.fast import FastModel
from sim.fast import kernels as K
from sim.runner import run_rng

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "profile_fast.py"


@pytest.fixture(scope="module")
def prof():
    sys.path.insert(0, str(PATH.parent))
    spec = importlib.util.spec_from_file_location("profile_fast", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["profile_fast"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(PATH.parent))
        sys.modules.pop("profile_fast", None)
        sys.modules.pop("bench_fast", None)


def _model(days: int = 40) -> FastModel:
    sc = load_scenario("bench_three_brands", {"run.consumers": 3000, "run.days": days})
    return FastModel(sc, run_rng(3))


def _step_calls() -> list[str]:
    """The kernels `step` calls as statements."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(K.step.py_func)))
    return [
        node.value.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
    ]


def test_the_timed_day_is_the_day(prof) -> None:
    """Days 10-29 through the timed copy write the ledger and state that the plain day
    writes: timing changes nothing."""
    plain, timed = _model(), _model()
    plain._run_days(0, 30)
    timed._run_days(0, 10)
    run, rows = prof.timed_day()
    ticks = np.zeros(len(rows), dtype=np.int64)
    W, B, G = timed._structs()
    run(W, B, G, timed._L, timed._book, 10, 30, timed._draw, timed._S, ticks)
    assert np.array_equal(plain.ledger.array, timed.ledger.array)
    assert np.array_equal(plain.W.funnel, timed.W.funnel)
    assert np.array_equal(plain.W.m_eng, timed.W.m_eng)
    assert (ticks >= 0).all() and ticks[rows.index("needs")] > 0


def test_every_phase_has_a_row_and_the_rows_add_up_to_the_day(prof) -> None:
    model = _model()
    model._run_days(0, 10)
    seconds, timed, plain = prof.profile(model, 10, 10)
    assert set(_step_calls()) | {"plan_days"} <= set(seconds)
    assert sum(seconds.values()) == pytest.approx(timed)
    assert seconds[prof.BETWEEN] < timed and timed > 0 and plain > 0
