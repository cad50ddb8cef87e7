"""The entry points count references with plain loads and stores (`sim.fast.jit.
local_refcounts`): no atomic count is left in their code, and the counts still balance, so
every array a run makes is freed, once, and nothing is freed early (a run is the same bytes
on one thread or two: tests/test_threads.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llvmlite import binding as ll

from sim.fast import jit
from sim.fast import kernels as K
from tests.helpers import entry_module_text

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not jit._LINKING, reason="entries compile as Numba's own here")


def test_the_day_has_no_atomic_reference_count() -> None:
    text = entry_module_text(K.run_days)
    assert "define" in text and "run_days" in text
    assert "call void @NRT_incref(" not in text
    assert "call void @NRT_decref(" not in text
    assert "atomicrmw" not in text


def test_local_refcounts_rewrites_every_call_and_keeps_the_destructor() -> None:
    module = ll.parse_assembly(
        """
declare void @NRT_incref(ptr)
declare void @NRT_decref(ptr)
define void @f(ptr %p) {
  call void @NRT_incref(ptr %p)
  tail call void @NRT_decref(ptr %p)
  ret void
}
"""
    )
    text = str(jit.local_refcounts(module))
    assert "call void @siyu_incref(ptr %p)" in text
    assert "call void @siyu_decref(ptr %p)" in text
    assert "@NRT_incref(" not in text.split("define void @f")[1].split("}")[0]
    assert "declare void @NRT_MemInfo_call_dtor(ptr)" in text
    assert "atomicrmw" not in text
    untouched = ll.parse_assembly("define void @g() {\n  ret void\n}\n")
    assert jit.local_refcounts(untouched) is untouched


_BALANCE = """
import gc, json, sys
from numba.core.runtime import rtsys
from sim.protocol import build_engine
from sim.runner import run_rng
from sim.scenario import load_scenario

def run(seed):
    sc = load_scenario("beauty_guides", {"run.consumers": 2000, "run.days": 120})
    model = build_engine("fast", sc, run_rng(seed))
    model.record_events()  # the event buffers grow inside the day (a field replaced)
    for _ in range(40):
        model.step()
    model.take_events()
    during.append(live())
    model.run()
    model.take_events()
    del model
    gc.collect()

def live():
    s = rtsys.get_allocation_stats()
    return [s.alloc - s.free, s.mi_alloc - s.mi_free]

during = []
run(0)  # first calls: compiled constants and caches made once
before = live()
run(1)
run(2)
print(json.dumps({"before": before, "after": live(), "during": during[-1]}))
"""


def test_counts_balance_over_runs() -> None:
    """Two whole runs (events recorded, buffers grown and taken) leave as many live
    allocations and meminfos as before them: no count is lost or doubled."""
    env = dict(os.environ, NUMBA_NRT_STATS="1", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", _BALANCE],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["after"] == got["before"]
    assert got["during"][1] > got["before"][1]  # the statistics count (a live run holds some)


def test_a_second_thread_is_refused_while_the_model_runs() -> None:
    """While one thread is inside `run` (here: in its progress callback), a call from another
    thread on the same model raises instead of touching its counts; the same thread may
    call in (the events runner takes the events between days), and once the run is over
    another thread may use the model."""
    import threading

    from sim.protocol import build_engine
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    sc = load_scenario("beauty_guides", {"run.consumers": 300, "run.days": 60})
    model = build_engine("fast", sc, run_rng(3))
    model.record_events()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            model.take_events()
        except RuntimeError as exc:
            errors.append(exc)

    def progress(day: int) -> None:
        model.take_events()  # the running thread itself: allowed
        if not errors:
            t = threading.Thread(target=other)
            t.start()
            t.join()

    model.run(progress)
    assert errors and "in use on another thread" in str(errors[0])
    assert "take_events refused" in str(errors[0])
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 1 and model.today == 60
